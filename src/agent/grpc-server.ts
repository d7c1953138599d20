import type http2 from 'node:http2';
import type net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { grpcServiceDefinition } from '../common/proto-descriptors';

export interface AgentServices {
  readonly workloadApi: grpc.UntypedServiceImplementation;
  readonly sds: grpc.UntypedServiceImplementation;
}

/** Hands a connection to grpc-js and returns the HTTP/2 session grpc-js made of it. */
export interface SessionInjector {
  injectConnection(connection: net.Socket): http2.Http2Session | undefined;
  /** Closes the injector's HTTP/2 server and its sessions (grpc-js's injector.destroy). */
  destroy(): void;
}

/** One grpc-js server carrying both APIs; connections reach it only through the injector. */
export function createGrpcServer(services: AgentServices): { server: grpc.Server; injector: SessionInjector } {
  const server = new grpc.Server({
    // Workload API messages are small; a cap bounds what a misbehaving local client can make us buffer.
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
  });
  // Precompiled descriptors (src/common/proto-descriptors.ts): no .proto parsing at start.
  server.addService(grpcServiceDefinition('SpiffeWorkloadAPI'), services.workloadApi);
  server.addService(grpcServiceDefinition('envoy.service.secret.v3.SecretDiscoveryService'), services.sds);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  return { server, injector: sessionInjector(server, injector) };
}

/**
 * grpc-js does not expose the http2.Http2Server behind an injector, and the session guard
 * (src/workload/session-guard.ts) needs each connection's session. The server is read from
 * grpc-js's private `http2Servers` map (grpc-js 1.14); if a grpc-js upgrade moves it, the agent
 * refuses to start rather than run without the guard. Node creates the session and emits
 * 'session' synchronously inside the 'connection' event, so the session is the injected one.
 */
function sessionInjector(server: grpc.Server, injector: ReturnType<grpc.Server['createConnectionInjector']>): SessionInjector {
  const servers = (server as unknown as { http2Servers?: Map<http2.Http2Server, unknown> }).http2Servers;
  const http2Server = servers ? [...servers.keys()].at(-1) : undefined;
  if (!http2Server || typeof http2Server.on !== 'function') {
    throw new Error('grpc-js internals changed: cannot reach the HTTP/2 server behind the connection injector (session guard)');
  }
  let latest: http2.Http2Session | undefined;
  http2Server.on('session', (session: http2.Http2Session) => {
    latest = session;
  });
  return {
    injectConnection(connection) {
      latest = undefined;
      injector.injectConnection(connection);
      const session = latest;
      latest = undefined;
      return session;
    },
    destroy: () => injector.destroy(),
  };
}
