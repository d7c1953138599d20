/** What one open SDS stream says about the trust bundle its client has accepted. */
export interface BundleAckState {
  /** Names the stream in logs: its API and the calling process. */
  readonly label: string;
  /** Whether the stream serves a validation context at all (a stream for `default` alone does not). */
  servesBundle(): boolean;
  /** The bundle version in the latest response the client ACKed; undefined before any ACK. */
  ackedBundleVersion(): number | undefined;
}

/**
 * The open SDS streams' bundle ACKs. A root rotation switches to the new root only once every
 * Envoy serving a validation context has accepted a bundle carrying it (or a cap has passed):
 * a leaf under a root the peer does not yet trust fails its handshakes.
 */
export class BundleAckTracker {
  private readonly streams = new Set<BundleAckState>();
  private readonly listeners = new Set<() => void>();

  /** Returns the function that forgets the stream (it counts as having ACKed once gone). */
  register(state: BundleAckState): () => void {
    this.streams.add(state);
    return () => {
      if (this.streams.delete(state)) this.changed();
    };
  }

  /** Streams call this after each request they handled (an ACK may have moved their version). */
  changed(): void {
    for (const listener of this.listeners) listener();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Labels of the streams serving a bundle whose client has not ACKed `version` or later. */
  behind(version: number): string[] {
    return [...this.streams].filter((stream) => stream.servesBundle() && (stream.ackedBundleVersion() ?? 0) < version).map((stream) => stream.label);
  }
}
