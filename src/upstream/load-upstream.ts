import type { AgentConfig } from '../agent/config/agent-config';
import { loadDiskUpstream } from './disk-upstream';
import { loadSelfSignedUpstream } from './self-signed-upstream';
import type { UpstreamAuthority } from './upstream-authority';

/** Exactly one upstream per agent, chosen by config; its errors name it (`upstream(disk): …`). */
export function loadUpstream(config: AgentConfig, now: Date): Promise<UpstreamAuthority> {
  switch (config.upstream.type) {
    case 'self-signed':
      return loadSelfSignedUpstream(config.dataDir, config.trustDomain, now);
    case 'disk':
      return loadDiskUpstream(config.upstream, now);
  }
}
