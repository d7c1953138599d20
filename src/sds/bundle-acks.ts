import type { BundleAckState } from '../rotation/bundle-ack-tracker';

/**
 * Where SDS streams report what their clients ACKed; root rotation waits on it before switching
 * (BundleAckTracker implements it). Declared here, by the streams that feed it.
 */
export interface BundleAckRegistry {
  /** Returns the function that forgets the stream. */
  register(state: BundleAckState): () => void;
  /** A registered stream's ACKed version may have moved. */
  changed(): void;
}
