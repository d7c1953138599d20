import { accessSync, constants } from 'node:fs';

/** A real peer installed by .ci/install-peers into MESHID_PEERS_DIR (default /var/cache/meshid-peers). */
export function peerPath(name: string): string {
  return `${process.env.MESHID_PEERS_DIR ?? '/var/cache/meshid-peers'}/bin/${name}`;
}

export function peerAvailable(name: string): boolean {
  try {
    accessSync(peerPath(name), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
