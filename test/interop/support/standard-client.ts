import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * The SPIFFE Workload API standard's own definition (go-spiffe v2.9.0's copy, see its header),
 * never meshid's proto/ nor the tests' fixture: what it decodes is what a standard client sees.
 */
export const STANDARD_PROTO = path.join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'standard', 'workloadapi.proto');

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
