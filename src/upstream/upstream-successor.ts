import type { UpstreamAuthority } from './upstream-authority';

/** A new upstream authority, ready to take over, with the hooks that persist the handover. */
export interface UpstreamSuccessor {
  readonly upstream: UpstreamAuthority;
  /** The new upstream now signs: make it the one a restart loads. */
  onSwitched?(): Promise<void>;
  /** The old roots left the bundles: forget them. */
  onCompleted?(): Promise<void>;
  /** The rotation will not happen: remove whatever was staged. */
  discard?(): Promise<void>;
}
