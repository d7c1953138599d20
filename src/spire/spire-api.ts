import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as AgentProto } from '../generated/agent';
import type { ProtoGrpcType as BundleProto } from '../generated/bundle';
import type { ProtoGrpcType as EntryProto } from '../generated/entry';
import type { AttestAgentRequest } from '../generated/spire/api/server/agent/v1/AttestAgentRequest';
import type { AttestAgentResponse__Output } from '../generated/spire/api/server/agent/v1/AttestAgentResponse';
import type { RenewAgentRequest } from '../generated/spire/api/server/agent/v1/RenewAgentRequest';
import type { RenewAgentResponse__Output } from '../generated/spire/api/server/agent/v1/RenewAgentResponse';
import type { GetBundleRequest } from '../generated/spire/api/server/bundle/v1/GetBundleRequest';
import type { GetFederatedBundleRequest } from '../generated/spire/api/server/bundle/v1/GetFederatedBundleRequest';
import type { GetAuthorizedEntriesRequest } from '../generated/spire/api/server/entry/v1/GetAuthorizedEntriesRequest';
import type { GetAuthorizedEntriesResponse__Output } from '../generated/spire/api/server/entry/v1/GetAuthorizedEntriesResponse';
import type { BatchNewX509SVIDRequest } from '../generated/spire/api/server/svid/v1/BatchNewX509SVIDRequest';
import type { BatchNewX509SVIDResponse__Output } from '../generated/spire/api/server/svid/v1/BatchNewX509SVIDResponse';
import type { NewDownstreamX509CARequest } from '../generated/spire/api/server/svid/v1/NewDownstreamX509CARequest';
import type { NewDownstreamX509CAResponse__Output } from '../generated/spire/api/server/svid/v1/NewDownstreamX509CAResponse';
import type { Bundle__Output } from '../generated/spire/api/types/Bundle';
import type { Entry__Output } from '../generated/spire/api/types/Entry';
import type { SPIFFEID__Output } from '../generated/spire/api/types/SPIFFEID';
import type { X509SVID__Output } from '../generated/spire/api/types/X509SVID';
import type { ProtoGrpcType as SvidProto } from '../generated/svid';
import { PROTO_LOADER_OPTIONS } from '../common/proto-files';

/**
 * The spire-api-sdk subset under proto/spire/ (v1.13.3, official field numbers), loaded once.
 * Message types are generated into src/generated/ (`npm run gen:proto`) with the loader options
 * used here: what the server sends as `__Output`, what the agent sends as the input type.
 */
const PROTOS = ['spire/api/server/agent/v1/agent.proto', 'spire/api/server/svid/v1/svid.proto', 'spire/api/server/bundle/v1/bundle.proto', 'spire/api/server/entry/v1/entry.proto'];

export type SpiffeIdMessage = SPIFFEID__Output;
export type X509SvidMessage = X509SVID__Output;
export type EntryMessage = Entry__Output;
export type BundleMessage = Bundle__Output;
export type AttestAgentResponse = AttestAgentResponse__Output;

type Unary<Req, Res> = (request: Req, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response?: Res) => void) => grpc.ClientUnaryCall;

/** The RPCs meshid calls, one signature each (the generated clients overload every method). */
export interface AgentClient extends grpc.Client {
  AttestAgent(metadata: grpc.Metadata, options: grpc.CallOptions): grpc.ClientDuplexStream<AttestAgentRequest, AttestAgentResponse>;
  RenewAgent: Unary<RenewAgentRequest, RenewAgentResponse__Output>;
}
export interface SvidClient extends grpc.Client {
  BatchNewX509SVID: Unary<BatchNewX509SVIDRequest, BatchNewX509SVIDResponse__Output>;
  NewDownstreamX509CA: Unary<NewDownstreamX509CARequest, NewDownstreamX509CAResponse__Output>;
}
export interface BundleClient extends grpc.Client {
  GetBundle: Unary<GetBundleRequest, BundleMessage>;
  GetFederatedBundle: Unary<GetFederatedBundleRequest, BundleMessage>;
}
export interface EntryClient extends grpc.Client {
  GetAuthorizedEntries: Unary<GetAuthorizedEntriesRequest, GetAuthorizedEntriesResponse__Output>;
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
  const root = grpc.loadPackageDefinition(definition) as unknown as AgentProto & SvidProto & BundleProto & EntryProto;
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
