import path from 'node:path';

/**
 * Where the agent listens, as SPIFFE clients find it: --socket, else SPIFFE_ENDPOINT_SOCKET
 * (`unix:///absolute/path`, SPIFFE Workload Endpoint spec §4), else the embedded default, so a
 * fetch right after `npm start` in the same directory just works.
 */
export function resolveEndpointSocket(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  if (flag) return path.resolve(cwd, flag);
  const endpoint = env.SPIFFE_ENDPOINT_SOCKET;
  if (endpoint) {
    if (!endpoint.startsWith('unix:')) throw new Error(`SPIFFE_ENDPOINT_SOCKET must be a unix: URI, got "${endpoint}"`);
    const socketPath = endpoint.replace(/^unix:(\/\/)?/, '');
    if (!path.isAbsolute(socketPath)) throw new Error(`SPIFFE_ENDPOINT_SOCKET must name an absolute path, got "${endpoint}"`);
    return socketPath;
  }
  return path.join(cwd, '.meshid', 'agent.sock');
}
