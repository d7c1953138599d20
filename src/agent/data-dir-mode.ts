import path from 'node:path';

/**
 * dataDir holds the root key, so it is created 0700, except when the Workload API socket lives
 * inside it (the embedded defaults put both in ./.meshid): then 0711, so workloads of other
 * users can reach the socket by name, while still no one else can list the directory (the key
 * file itself is 0600 either way).
 */
export function dataDirMode(config: { readonly dataDir: string; readonly socketPath: string }): number {
  const relative = path.relative(config.dataDir, config.socketPath);
  const socketInside = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
  return socketInside ? 0o711 : 0o700;
}
