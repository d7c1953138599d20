import path from 'node:path';
import type { AgentConfig } from './agent-config';
import { parseConfig } from './load';

/**
 * What `meshid run` uses without --config (and so `npm start`): everything under ./.meshid, a
 * self-signed upstream, and one entry giving the invoking user's uid an identity, so a first
 * `meshid api fetch x509` from the same shell gets an SVID.
 */
export function embeddedDefaults(options: { cwd: string; uid: number }): AgentConfig {
  const dataDir = path.join(options.cwd, '.meshid');
  return parseConfig(
    {
      trustDomain: 'example.org',
      dataDir,
      socketPath: path.join(dataDir, 'agent.sock'),
      upstream: { type: 'self-signed' },
      entries: [{ spiffeId: `spiffe://example.org/uid/${options.uid}`, selectors: [`unix:uid:${options.uid}`] }],
    },
    { baseDir: options.cwd },
  );
}
