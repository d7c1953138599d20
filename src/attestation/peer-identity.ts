import type { ConnectorSnapshot } from './connector-snapshot';
import type { PeerCredentials } from './peer-credentials';
import type { ProcessHandle } from './process-handle';

/**
 * A connected workload as the kernel reported it at accept time. Every later call is served only
 * while the process still matches this record (connector-binding.ts).
 */
export interface PeerIdentity extends PeerCredentials {
  /** /proc/<pid> at accept; undefined if the process was already gone. */
  readonly process: ConnectorSnapshot | undefined;
  /** A pidfd on the connector (SO_PEERPIDFD), where the kernel offers one. */
  readonly handle: ProcessHandle | undefined;
}

/**
 * grpc-js hands handlers only a peer string (call.getPeer(), taken from the socket's
 * remoteAddress). The listener gives each accepted connection an unguessable token as its
 * remoteAddress and records the identity here, so a handler can find the kernel-attested peer of
 * its own connection. A unix-socket client has no address of its own, so it cannot forge a token.
 */
export class PeerRegistry {
  private readonly peers = new Map<string, PeerIdentity>();

  register(token: string, identity: PeerIdentity): void {
    this.peers.set(token, identity);
  }

  /** Forgets the connection and releases its process handle. */
  unregister(token: string): void {
    this.peers.get(token)?.handle?.close();
    this.peers.delete(token);
  }

  lookup(peer: string): PeerIdentity | undefined {
    return this.peers.get(peer);
  }

  get size(): number {
    return this.peers.size;
  }
}
