import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_DIR, SDS_PROTO, WORKLOAD_API_PROTO } from '../proto-files';

// keepCase keeps proto field names (spiffe_id, inline_bytes) so handlers use the spec's names.
const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [PROTO_DIR] };

export interface AgentServices {
  readonly workloadApi: grpc.UntypedServiceImplementation;
  readonly sds: grpc.UntypedServiceImplementation;
}

/** One grpc-js server carrying both APIs; connections reach it only through the injector. */
export function createGrpcServer(services: AgentServices): { server: grpc.Server; injector: ReturnType<grpc.Server['createConnectionInjector']> } {
  const definition = protoLoader.loadSync([WORKLOAD_API_PROTO, SDS_PROTO], LOADER_OPTIONS);
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    SpiffeWorkloadAPI: grpc.ServiceClientConstructor;
    envoy: { service: { secret: { v3: { SecretDiscoveryService: grpc.ServiceClientConstructor } } } };
  };
  const server = new grpc.Server({
    // Workload API messages are small; a cap bounds what a misbehaving local client can make us buffer.
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
  });
  server.addService(loaded.SpiffeWorkloadAPI.service, services.workloadApi);
  server.addService(loaded.envoy.service.secret.v3.SecretDiscoveryService.service, services.sds);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  return { server, injector };
}
