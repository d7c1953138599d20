import { existsSync } from 'node:fs';

/** A real peer binary installed by .ci/install-peers (cache dir: MESHID_PEERS_DIR). */
export function peerPath(name: string): string {
  return `${process.env.MESHID_PEERS_DIR ?? '/var/cache/meshid-peers'}/bin/${name}`;
}

export function peerAvailable(name: string): boolean {
  return existsSync(peerPath(name));
}
