import type { Logger } from 'pino';
import { MeshidError } from '../common/errors';
import type { UpstreamAuthority } from '../upstream/upstream-authority';
import { loadUpstream, type LocalUpstreamConfig } from '../upstream/upstream-types';
import type { UpstreamContext } from '../upstream/upstream-type';
import type { AgentConfig } from './config/agent-config';
import { dataDirMode } from './data-dir-mode';

/** The slice of the agent's config every upstream is given besides its own section. */
export function upstreamContext(config: AgentConfig, logger?: Logger): UpstreamContext {
  return { dataDir: config.dataDir, trustDomain: config.trustDomain, dataDirMode: dataDirMode(config), leafTtlMs: config.svid.ttlMs, ...(logger ? { logger } : {}) };
}

/** The local upstream an agent config names (a SPIRE server is joined instead: src/spire/). */
export function localUpstreamOf(config: AgentConfig): LocalUpstreamConfig | undefined {
  return config.upstream.type === 'spire' ? undefined : config.upstream;
}

/** loadUpstream for a whole agent config: what the agent does at start, and what tests build on. */
export function loadConfiguredUpstream(config: AgentConfig, now: Date, logger?: Logger): Promise<UpstreamAuthority> {
  const local = localUpstreamOf(config);
  if (!local) throw new MeshidError('INTERNAL', 'upstream(spire): joined by startAgent (src/spire/load-spire-upstream.ts), not loaded here');
  return loadUpstream(local, upstreamContext(config, logger), now);
}
