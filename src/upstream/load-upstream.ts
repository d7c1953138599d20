import path from 'node:path';
import type { AgentConfig } from '../agent/config/agent-config';
import { loadDiskUpstream } from './disk-upstream';
import { loadPkcs11Upstream } from './pkcs11-upstream';
import { loadSelfSignedUpstream } from './self-signed-upstream';
import type { UpstreamAuthority } from './upstream-authority';

/**
 * Exactly one upstream per agent, chosen by config. Failures are MeshidError('UPSTREAM') whose
 * message names the upstream: `upstream(disk): …`.
 */
export function loadUpstream(config: AgentConfig, now: Date): Promise<UpstreamAuthority> {
  switch (config.upstream.type) {
    case 'self-signed':
      return loadSelfSignedUpstream({ dataDir: config.dataDir, trustDomain: config.trustDomain, dataDirMode: dataDirMode(config) }, now);
    case 'disk':
      return loadDiskUpstream(config.upstream, now);
    case 'pkcs11':
      return loadPkcs11Upstream(config.upstream, now);
  }
}

/**
 * dataDir holds the root key, so it is created 0700, except when the Workload API socket lives
 * inside it (the embedded defaults put both in ./.meshid): then 0711, so workloads of other
 * users can reach the socket by name, while still no one else can list the directory (the key
 * file itself is 0600 either way).
 */
function dataDirMode(config: AgentConfig): number {
  const relative = path.relative(config.dataDir, config.socketPath);
  const socketInside = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
  return socketInside ? 0o711 : 0o700;
}
