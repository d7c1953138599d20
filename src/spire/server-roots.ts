import type { ServerSync } from './server-sync';

/**
 * What both SPIRE modes present as an upstream: the server's current roots, followed as the
 * server's CA rotates (ServerSync polls the bundle), and the close of the server connection.
 */
export function serverRootsUpstream(sync: ServerSync, close: () => Promise<void>) {
  return {
    name: 'spire',
    get rootsDer(): readonly Buffer[] {
      return sync.currentRoots;
    },
    onRootsChange: (listener: (rootsDer: readonly Buffer[]) => void) => sync.onRoots(listener),
    close,
  };
}
