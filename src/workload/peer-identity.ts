import type { PeerCredentials } from './peer-credentials';

/** A connected workload as the kernel reported it at accept time. */
export interface PeerIdentity extends PeerCredentials {
  /** /proc/<pid>/stat start time at accept; undefined if the process was already gone. */
  readonly startTime: bigint | undefined;
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

  unregister(token: string): void {
    this.peers.delete(token);
  }

  lookup(peer: string): PeerIdentity | undefined {
    return this.peers.get(peer);
  }

  get size(): number {
    return this.peers.size;
  }
}
