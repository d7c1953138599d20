import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/**
 * Real peer programs (Envoy, SPIFFE library clients) installed by .ci/install-peers into one
 * cache directory: `${MESHID_PEERS_DIR ?? /var/cache/meshid-peers}/bin/<name>`.
 */
export function peerPath(name: string): string {
  return path.join(process.env.MESHID_PEERS_DIR ?? '/var/cache/meshid-peers', 'bin', name);
}

/** Whether the peer is installed and executable (tests declare the peers they need with needs(), support/tools.ts). */
export function peerAvailable(name: string): boolean {
  try {
    accessSync(peerPath(name), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
