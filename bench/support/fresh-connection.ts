import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_DIR, WORKLOAD_API_PROTO } from '../../src/common/proto-files';

const definition = protoLoader.loadSync(WORKLOAD_API_PROTO, { keepCase: true, includeDirs: [PROTO_DIR] });
/** The Workload API client constructor, from meshid's own proto. */
export const WorkloadApi = (grpc.loadPackageDefinition(definition) as unknown as { SpiffeWorkloadAPI: grpc.ServiceClientConstructor }).SpiffeWorkloadAPI;

type StreamingCall = (request: object, metadata: grpc.Metadata, options?: grpc.CallOptions) => grpc.ClientReadableStream<unknown>;

/**
 * One Workload API stream on a new connection, as a newly started workload opens it: resolves
 * with the milliseconds from connect to the first message, rejects with the call's error. A
 * deadline bounds a call a starving agent never answers.
 */
export function firstMessageMs(socketPath: string, rpc: 'FetchX509SVID' | 'FetchX509Bundles', deadlineMs?: number): Promise<number> {
  const client = new WorkloadApi(`unix:${socketPath}`, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('workload.spiffe.io', 'true');
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const open = (client as unknown as Record<typeof rpc, StreamingCall>)[rpc].bind(client);
    const call = open({}, metadata, deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs });
    call.once('data', () => {
      resolve(Number(process.hrtime.bigint() - started) / 1e6);
      call.cancel();
      client.close();
    });
    call.once('error', (error: grpc.ServiceError) => {
      client.close();
      if (error.code !== grpc.status.CANCELLED) reject(error);
    });
  });
}
