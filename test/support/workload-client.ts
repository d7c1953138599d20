import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

// The test's own definition (test/fixtures/e2e/workload.proto), not the server's proto/.
const PROTO = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'e2e', 'workload.proto');

export interface X509SvidMessage {
  spiffe_id: string;
  x509_svid: Buffer;
  x509_svid_key: Buffer;
  bundle: Buffer;
  hint: string;
}
export interface X509SvidResponse {
  svids: X509SvidMessage[];
  crl: Buffer[];
  federated_bundles: Record<string, Buffer>;
}
export interface X509BundlesResponse {
  crl: Buffer[];
  bundles: Record<string, Buffer>;
}

export interface JwtSvidResponse {
  svids: { spiffe_id: string; svid: string; hint: string }[];
}
export interface JwtBundlesResponse {
  bundles: Record<string, Buffer>;
}
/** google.protobuf.Struct as decoded without `oneofs`: each Value has exactly its set member. */
export interface StructMessage {
  fields: Record<string, Record<string, unknown>>;
}
export interface ValidateJwtSvidResponse {
  spiffe_id: string;
  claims: StructMessage | null;
}

type Unary<Req, Res> = (request: Req, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response?: Res) => void) => grpc.ClientUnaryCall;

type Client = grpc.Client & {
  FetchX509SVID(request: object, metadata: grpc.Metadata): grpc.ClientReadableStream<X509SvidResponse>;
  FetchX509Bundles(request: object, metadata: grpc.Metadata): grpc.ClientReadableStream<X509BundlesResponse>;
  FetchJWTSVID: Unary<{ audience?: string[]; spiffe_id?: string }, JwtSvidResponse>;
  FetchJWTBundles(request: object, metadata: grpc.Metadata): grpc.ClientReadableStream<JwtBundlesResponse>;
  ValidateJWTSVID: Unary<{ audience?: string; svid?: string }, ValidateJwtSvidResponse>;
};

/** A unary call as a promise; rejects with the ServiceError. */
export function callUnary<Req, Res>(method: Unary<Req, Res>, client: Client, request: Req, metadata: grpc.Metadata): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, request, metadata, (error, response) => (error || !response ? reject(error ?? new Error('no response')) : resolve(response)));
  });
}

/** Struct → plain JSON, written from the protobuf well-known type's definition. */
export function structToJson(struct: StructMessage | null | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(struct?.fields ?? {}).map(([name, value]) => [name, valueToJson(value)]));
}

function valueToJson(value: Record<string, unknown>): unknown {
  if ('stringValue' in value) return value.stringValue;
  if ('numberValue' in value) return value.numberValue;
  if ('boolValue' in value) return value.boolValue;
  if ('structValue' in value) return structToJson(value.structValue as StructMessage);
  if ('listValue' in value) return ((value.listValue as { values?: Record<string, unknown>[] }).values ?? []).map(valueToJson);
  if ('nullValue' in value) return null;
  throw new Error(`a Value with no kind set: ${JSON.stringify(value)}`);
}

export function workloadClient(socketPath: string): Client {
  const definition = protoLoader.loadSync(PROTO, { keepCase: true, defaults: true });
  const Service = (grpc.loadPackageDefinition(definition) as unknown as { SpiffeWorkloadAPI: grpc.ServiceClientConstructor }).SpiffeWorkloadAPI;
  return new Service(`unix:${socketPath}`, grpc.credentials.createInsecure()) as unknown as Client;
}

export function securityHeader(present = true): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (present) metadata.set('workload.spiffe.io', 'true');
  return metadata;
}

/** Collects stream messages; `next()` resolves with the next one (or rejects with the stream error). */
export class StreamReader<T> {
  private readonly messages: T[] = [];
  private error: grpc.ServiceError | undefined;
  private waiters: (() => void)[] = [];

  constructor(readonly call: grpc.ClientReadableStream<T> | grpc.ClientDuplexStream<unknown, T>) {
    call.on('data', (message: T) => {
      this.messages.push(message);
      this.wake();
    });
    call.on('error', (error: grpc.ServiceError) => {
      this.error = error;
      this.wake();
    });
  }

  private taken = 0;

  get received(): number {
    return this.messages.length + this.taken;
  }

  async next(timeoutMs = 5_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length === 0) {
      if (this.error) throw this.error;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error('timed out waiting for a stream message');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.taken++;
    return this.messages.shift() as T;
  }

  /** Resolves with the stream's error status (fails the test if a message arrives instead). */
  async failure(timeoutMs = 5_000): Promise<grpc.ServiceError> {
    try {
      const message = await this.next(timeoutMs);
      throw new Error(`expected an error, got a message: ${JSON.stringify(message).slice(0, 200)}`);
    } catch (error) {
      if ((error as grpc.ServiceError).code === undefined) throw error;
      return error as grpc.ServiceError;
    }
  }

  /** Whether anything arrived that was not yet taken (for "nothing was re-sent" checks). */
  get pending(): number {
    return this.messages.length;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}
