import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS } from '../../proto-files';

/**
 * The spire-api-sdk subset under proto/spire/ (v1.13.3, official field numbers), loaded once.
 * Message shapes below are what proto-loader produces with keepCase, longs as strings, defaults.
 */
const PROTOS = ['spire/api/server/agent/v1/agent.proto', 'spire/api/server/svid/v1/svid.proto', 'spire/api/server/bundle/v1/bundle.proto', 'spire/api/server/entry/v1/entry.proto'];

export interface SpiffeIdMessage {
  readonly trust_domain: string;
  readonly path: string;
}
export interface X509SvidMessage {
  readonly cert_chain: Buffer[];
  readonly id: SpiffeIdMessage | null;
  readonly expires_at: string;
  readonly hint: string;
}
export interface EntryMessage {
  readonly id: string;
  readonly spiffe_id: SpiffeIdMessage | null;
  readonly parent_id: SpiffeIdMessage | null;
  readonly selectors: { readonly type: string; readonly value: string }[];
  readonly x509_svid_ttl: number;
  readonly federates_with: string[];
  readonly downstream: boolean;
  readonly dns_names: string[];
  readonly revision_number: string;
  readonly hint: string;
}
export interface BundleMessage {
  readonly trust_domain: string;
  readonly x509_authorities: { readonly asn1: Buffer; readonly tainted: boolean }[];
  readonly refresh_hint: string;
  readonly sequence_number: string;
}
export interface StatusMessage {
  readonly code: number;
  readonly message: string;
}
export interface AttestAgentResponse {
  readonly step: 'result' | 'challenge';
  readonly result?: { readonly svid: X509SvidMessage | null; readonly reattestable: boolean };
  readonly challenge?: Buffer;
}

type Unary<Req, Res> = (request: Req, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response?: Res) => void) => grpc.ClientUnaryCall;

export interface AgentClient extends grpc.Client {
  AttestAgent(metadata: grpc.Metadata, options: grpc.CallOptions): grpc.ClientDuplexStream<object, AttestAgentResponse>;
  RenewAgent: Unary<{ params: { csr: Buffer } }, { svid: X509SvidMessage | null }>;
}
export interface SvidClient extends grpc.Client {
  BatchNewX509SVID: Unary<{ params: { entry_id: string; csr: Buffer }[] }, { results: { status: StatusMessage | null; svid: X509SvidMessage | null }[] }>;
  NewDownstreamX509CA: Unary<{ csr: Buffer; preferred_ttl: number }, { ca_cert_chain: Buffer[]; x509_authorities: Buffer[] }>;
}
export interface BundleClient extends grpc.Client {
  GetBundle: Unary<object, BundleMessage>;
  GetFederatedBundle: Unary<{ trust_domain: string }, BundleMessage>;
}
export interface EntryClient extends grpc.Client {
  GetAuthorizedEntries: Unary<{ output_mask?: Record<string, boolean> }, { entries: EntryMessage[] }>;
}

type Constructor<T> = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => T;

export interface SpireApi {
  readonly Agent: Constructor<AgentClient>;
  readonly SVID: Constructor<SvidClient>;
  readonly Bundle: Constructor<BundleClient>;
  readonly Entry: Constructor<EntryClient>;
}

let loaded: SpireApi | undefined;

export function spireApi(): SpireApi {
  if (loaded) return loaded;
  const definition = protoLoader.loadSync(PROTOS, PROTO_LOADER_OPTIONS);
  const root = grpc.loadPackageDefinition(definition) as unknown as {
    spire: { api: { server: { agent: { v1: { Agent: unknown } }; svid: { v1: { SVID: unknown } }; bundle: { v1: { Bundle: unknown } }; entry: { v1: { Entry: unknown } } } } };
  };
  const server = root.spire.api.server;
  loaded = {
    Agent: server.agent.v1.Agent as Constructor<AgentClient>,
    SVID: server.svid.v1.SVID as Constructor<SvidClient>,
    Bundle: server.bundle.v1.Bundle as Constructor<BundleClient>,
    Entry: server.entry.v1.Entry as Constructor<EntryClient>,
  };
  return loaded;
}

/** `spiffe://td/path` from the API's SPIFFEID message. */
export function spiffeIdString(id: SpiffeIdMessage | null): string {
  return id ? `spiffe://${id.trust_domain}${id.path}` : '';
}

/** A unary call as a promise, with a deadline (spire-agent uses 30 s: pkg/agent/client rpcTimeout). */
export function call<Req, Res>(client: grpc.Client, method: Unary<Req, Res>, request: Req, timeoutMs = 30_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, request, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (error, response) => (error || response === undefined ? reject(error ?? new Error('empty response')) : resolve(response)));
  });
}
