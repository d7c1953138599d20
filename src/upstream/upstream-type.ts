import type { Logger } from 'pino';
import type { UpstreamAuthority } from './upstream-authority';
import type { UpstreamSuccessor } from './upstream-successor';

/** What every upstream is given besides its own config section; declared here so upstream/ never sees AgentConfig. */
export interface UpstreamContext {
  readonly dataDir: string;
  readonly trustDomain: string;
  /** Mode for dataDir when it has to be created (the agent decides: 0700, or 0711 when the socket is inside). */
  readonly dataDirMode: number;
  /**
   * The agent's `svid.ttl`: the self-signed upstream records the longest one issued under each
   * root, so a root retired before a restart is kept as long as leaves under it may live.
   */
  readonly leafTtlMs?: number;
  readonly logger?: Logger;
}

/** Why a successor is wanted: an operator asked (`meshid ca rotate`), or the upstream's files changed. */
export type RotationTrigger = 'admin' | 'files-changed';

/**
 * One kind of upstream, as a row of the table in upstream-types.ts: how it loads at start and
 * how the one to rotate to is made. A rejected successor throws MeshidError('UPSTREAM') naming
 * the problem, and the current upstream stays.
 */
export interface UpstreamType<Config> {
  load(config: Config, context: UpstreamContext, now: Date): Promise<UpstreamAuthority>;
  prepareSuccessor(config: Config, context: UpstreamContext, now: Date, trigger: RotationTrigger): Promise<UpstreamSuccessor>;
  /** The files whose content defines this upstream: a change asks for a rotation. */
  watchedFiles(config: Config): string[];
}
