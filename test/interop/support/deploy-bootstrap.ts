import { parse } from 'yaml';
import { repoFile } from '../../deploy/support/repo-files';

/** Where a deploy/envoy bootstrap is made to run on one test machine. */
export interface Substitutions {
  readonly adminPort: number;
  readonly socketPath: string;
  readonly inboundPort: number;
  readonly outboundPort: number;
  readonly appPort: number;
  readonly backendPort: number;
}

type Json = Record<string, unknown>;

function child(value: unknown, key: string): Json {
  const next = (value as Json | undefined)?.[key];
  if (typeof next !== 'object' || next === null) throw new Error(`bootstrap has no ${key}`);
  return next as Json;
}

function named(list: unknown, name: string): Json {
  const found = (list as Json[]).find((item) => item.name === name);
  if (!found) throw new Error(`bootstrap has no ${name}`);
  return found;
}

/** The socket_address of the only endpoint of a cluster. */
function endpointAddress(cluster: Json): Json {
  const endpoints = child(cluster, 'load_assignment').endpoints as Json[];
  const lbEndpoints = endpoints[0]?.lb_endpoints as Json[];
  return child(child(lbEndpoints[0], 'endpoint'), 'address');
}

/**
 * deploy/envoy/<file> with only ports and paths changed, so the file that ships is the file
 * that runs: the admin and listener ports, meshid's socket, the local app and the backend
 * (backend.example.internal → 127.0.0.1, which STRICT_DNS resolves as a literal). Listeners
 * bind loopback instead of 0.0.0.0.
 */
export function substitutedBootstrap(file: string, to: Substitutions): Json {
  const bootstrap = parse(repoFile(`deploy/envoy/${file}`)) as Json;
  child(child(child(bootstrap, 'admin'), 'address'), 'socket_address').port_value = to.adminPort;
  const resources = child(bootstrap, 'static_resources');
  const listen = (name: string, port: number): void => {
    child(named(resources.listeners, name), 'address').socket_address = { address: '127.0.0.1', port_value: port };
  };
  listen('inbound_mtls', to.inboundPort);
  listen('outbound_backend', to.outboundPort);
  endpointAddress(named(resources.clusters, 'sds-grpc')).pipe = { path: to.socketPath };
  endpointAddress(named(resources.clusters, 'local_app')).socket_address = { address: '127.0.0.1', port_value: to.appPort };
  endpointAddress(named(resources.clusters, 'backend_mtls')).socket_address = { address: '127.0.0.1', port_value: to.backendPort };
  return bootstrap;
}
