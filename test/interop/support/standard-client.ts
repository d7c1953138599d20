import { existsSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * The SPIFFE Workload API standard's own definition, never meshid's proto/ nor the tests' fixture:
 * what it decodes is what a standard client sees. Read in place from the go-spiffe module that
 * .ci/install-peers fetches for the go-peer (github.com/spiffe/go-spiffe/v2 v2.9.0, checksum
 * pinned by test/interop/go-peer/go.sum): proto/spiffe/workload/workload.proto, go-spiffe's copy
 * of the standard (spiffe/spiffe standards/workloadapi.proto), the one Go clients compile.
 */
export const STANDARD_PROTO = path.join(
  process.env.MESHID_PEERS_DIR ?? '/var/cache/meshid-peers',
  'gomodcache',
  'github.com/spiffe/go-spiffe/v2@v2.9.0',
  'proto/spiffe/workload/workload.proto',
);

/** Fails with the fix when the module is not in the peers' cache (CI installs it). */
export function assertStandardProtoInstalled(): void {
  if (!existsSync(STANDARD_PROTO)) throw new Error(`${STANDARD_PROTO} is missing: run .ci/install-peers (it fetches go-spiffe v2.9.0 for the go-peer)`);
}

export interface StandardX509Svid {
  spiffe_id: string;
  x509_svid: Buffer;
  x509_svid_key: Buffer;
  bundle: Buffer;
  hint: string;
}
export interface StandardX509SvidResponse {
  svids: StandardX509Svid[];
  crl: Buffer[];
  federated_bundles: Record<string, Buffer>;
}
export interface StandardX509BundlesResponse {
  crl: Buffer[];
  bundles: Record<string, Buffer>;
}
export interface StandardJwtSvidResponse {
  svids: { spiffe_id: string; svid: string; hint: string }[];
}
export interface StandardJwtBundlesResponse {
  bundles: Record<string, Buffer>;
}
export interface StandardValidateResponse {
  spiffe_id: string;
  claims: { fields: Record<string, Record<string, unknown>> } | null;
}

type Stream<T> = (request: object, metadata: grpc.Metadata) => grpc.ClientReadableStream<T>;
type Unary<T> = (request: object, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response?: T) => void) => grpc.ClientUnaryCall;

export type StandardClient = grpc.Client & {
  FetchX509SVID: Stream<StandardX509SvidResponse>;
  FetchX509Bundles: Stream<StandardX509BundlesResponse>;
  FetchJWTSVID: Unary<StandardJwtSvidResponse>;
  FetchJWTBundles: Stream<StandardJwtBundlesResponse>;
  ValidateJWTSVID: Unary<StandardValidateResponse>;
  FetchWITSVID: Stream<unknown>;
};

export function loadStandardDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(STANDARD_PROTO, { keepCase: true, defaults: true });
}

export function standardClient(socketPath: string): StandardClient {
  const Service = (grpc.loadPackageDefinition(loadStandardDefinition()) as unknown as { SpiffeWorkloadAPI: grpc.ServiceClientConstructor }).SpiffeWorkloadAPI;
  return new Service(`unix:${socketPath}`, grpc.credentials.createInsecure()) as unknown as StandardClient;
}

/** The security header every Workload API call must carry (SPIFFE Workload API spec, "Transport"). */
export function workloadHeader(): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('workload.spiffe.io', 'true');
  return metadata;
}

/** The first message of a server stream, then the stream is cancelled. */
export function firstMessage<T>(call: grpc.ClientReadableStream<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    call.once('data', (message: T) => {
      resolve(message);
      call.cancel();
    });
    call.once('error', reject);
  });
}

export function unary<T>(client: StandardClient, method: Unary<T>, request: object): Promise<T> {
  return new Promise((resolve, reject) => {
    method.call(client, request, workloadHeader(), (error, response) => (error || !response ? reject(error ?? new Error('no response')) : resolve(response)));
  });
}
