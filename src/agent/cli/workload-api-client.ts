import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_DIR, WORKLOAD_API_PROTO } from '../../proto-files';
import type { X509SvidResponse } from '../../workload/workload-api/messages';

type WorkloadApiClient = grpc.Client & {
  FetchX509SVID(request: object, metadata: grpc.Metadata, options: grpc.CallOptions): grpc.ClientReadableStream<X509SvidResponse>;
};

function createClient(socketPath: string): WorkloadApiClient {
  const definition = protoLoader.loadSync(WORKLOAD_API_PROTO, { keepCase: true, defaults: true, includeDirs: [PROTO_DIR] });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { SpiffeWorkloadAPI: grpc.ServiceClientConstructor };
  return new loaded.SpiffeWorkloadAPI(`unix:${socketPath}`, grpc.credentials.createInsecure()) as unknown as WorkloadApiClient;
}

/** The first X509SVIDResponse of a FetchX509SVID stream (what `api fetch` prints or writes). */
export function fetchX509Once(socketPath: string, timeoutMs: number): Promise<X509SvidResponse> {
  const client = createClient(socketPath);
  const metadata = new grpc.Metadata();
  metadata.set('workload.spiffe.io', 'true');
  return new Promise((resolve, reject) => {
    const call = client.FetchX509SVID({}, metadata, { deadline: Date.now() + timeoutMs });
    let settled = false;
    call.on('data', (response: X509SvidResponse) => {
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
