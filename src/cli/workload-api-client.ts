import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS, WORKLOAD_API_PROTO } from '../common/proto-files';
import type { JwtSvidRequest, JwtSvidResponse, ValidateJwtSvidRequest, ValidateJwtSvidResponse } from '../workload-api/jwt-messages';
import type { X509BundlesResponse, X509SvidResponse } from '../workload-api/messages';

type Unary<Req, Res> = (request: Req, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response?: Res) => void) => grpc.ClientUnaryCall;
type ServerStream<Res> = (request: object, metadata: grpc.Metadata, options: grpc.CallOptions) => grpc.ClientReadableStream<Res>;

type WorkloadApiClient = grpc.Client & {
  FetchX509SVID: ServerStream<X509SvidResponse>;
  FetchX509Bundles: ServerStream<X509BundlesResponse>;
  FetchJWTSVID: Unary<JwtSvidRequest, JwtSvidResponse>;
  ValidateJWTSVID: Unary<ValidateJwtSvidRequest, ValidateJwtSvidResponse>;
};

function createClient(socketPath: string): WorkloadApiClient {
  // oneofs: the claims Struct of ValidateJWTSVID names the member each Value sets.
  const definition = protoLoader.loadSync(WORKLOAD_API_PROTO, PROTO_LOADER_OPTIONS);
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { SpiffeWorkloadAPI: grpc.ServiceClientConstructor };
  return new loaded.SpiffeWorkloadAPI(`unix:${socketPath}`, grpc.credentials.createInsecure()) as unknown as WorkloadApiClient;
}

function securityHeader(): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('workload.spiffe.io', 'true');
  return metadata;
}

/** The first message of a server stream, then the stream is cancelled. */
function firstMessage<Res>(socketPath: string, open: (client: WorkloadApiClient) => ServerStream<Res>, timeoutMs: number): Promise<Res> {
  const client = createClient(socketPath);
  return new Promise((resolve, reject) => {
    const call = open(client).call(client, {}, securityHeader(), { deadline: Date.now() + timeoutMs });
    let settled = false;
    call.on('data', (response: Res) => {
      settled = true;
      resolve(response);
      call.cancel();
      client.close();
    });
    call.on('error', (error: grpc.ServiceError) => {
      client.close();
      if (!settled) reject(error);
    });
  });
}

function unary<Req, Res>(socketPath: string, method: (client: WorkloadApiClient) => Unary<Req, Res>, request: Req, timeoutMs: number): Promise<Res> {
  const client = createClient(socketPath);
  return new Promise((resolve, reject) => {
    method(client).call(client, request, securityHeader(), { deadline: Date.now() + timeoutMs }, (error, response) => {
      client.close();
      if (error || !response) reject(error ?? new Error('empty response'));
      else resolve(response);
    });
  });
}

/** The first X509SVIDResponse of a FetchX509SVID stream (what `api fetch` prints or writes). */
export function fetchX509Once(socketPath: string, timeoutMs: number): Promise<X509SvidResponse> {
  return firstMessage(socketPath, (client) => client.FetchX509SVID, timeoutMs);
}

/** The first X509BundlesResponse: the agent is up, attesting and serving (`healthcheck`). */
export function fetchX509BundlesOnce(socketPath: string, timeoutMs: number): Promise<X509BundlesResponse> {
  return firstMessage(socketPath, (client) => client.FetchX509Bundles, timeoutMs);
}

export function fetchJwtSvids(socketPath: string, request: JwtSvidRequest, timeoutMs: number): Promise<JwtSvidResponse> {
  return unary(socketPath, (client) => client.FetchJWTSVID, request, timeoutMs);
}

export function validateJwtSvid(socketPath: string, request: ValidateJwtSvidRequest, timeoutMs: number): Promise<ValidateJwtSvidResponse> {
  return unary(socketPath, (client) => client.ValidateJWTSVID, request, timeoutMs);
}

/** Every FetchX509SVID update until stop() or the stream ends; `onEnd` gets the error, if any. */
export function watchX509(socketPath: string, onUpdate: (response: X509SvidResponse) => void, onEnd: (error: grpc.ServiceError | undefined) => void): { stop(): void } {
  const client = createClient(socketPath);
  const call = client.FetchX509SVID({}, securityHeader(), {});
  let stopped = false;
  const finish = (error: grpc.ServiceError | undefined): void => {
    client.close();
    if (stopped) return;
    stopped = true; // 'error' and 'end' may both come; report once
    onEnd(error);
  };
  call.on('data', onUpdate);
  call.on('error', (error: grpc.ServiceError) => finish(error));
  call.on('end', () => finish(undefined));
  return {
    stop() {
      stopped = true;
      call.cancel();
      client.close();
    },
  };
}

/** "CODE: details" for a failed call, as the CLI reports it. */
export function describeCallError(error: unknown): string {
  const serviceError = error as Partial<grpc.ServiceError>;
  const code = serviceError.code !== undefined ? grpc.status[serviceError.code] : undefined;
  return `${code ?? 'ERROR'}: ${serviceError.details ?? serviceError.message ?? String(error)}`;
}
