import type { UpstreamAuthority } from './upstream-authority';

/** A new upstream authority, ready to take over, with the hooks that persist the handover. */
export interface UpstreamSuccessor {
  readonly upstream: UpstreamAuthority;
  /**
   * The new upstream is about to sign its first certificate: persist what a restart needs to
   * keep trusting both the old and the new roots. Runs before the switch; a failure abandons it.
   */
  onSwitching?(): Promise<void>;
  /** The new upstream now signs: make it the one a restart loads. */
  onSwitched?(): Promise<void>;
  /** The old roots left the bundles: forget them. */
  onCompleted?(): Promise<void>;
  /** The rotation will not happen: remove whatever was staged. */
  discard?(): Promise<void>;
}
