import pino from 'pino';
import { startAgent } from '../../../src/agent/agent';
import { parseConfig } from '../../../src/agent/config/load';
import type { Harness } from '../../support/agent-harness';

/**
 * Stops the harness's agent (graceful: streams end UNAVAILABLE, the socket is removed) and starts a
 * new one with the same dataDir and socket, as `systemctl restart` would: the persisted upstream
 * root is reused, every SVID is new. `whileDown` runs between the two.
 */
export async function restartAgent(harness: Harness, overrides: Record<string, unknown>, whileDown: () => void = () => undefined): Promise<Harness> {
  await harness.agent.stop();
  whileDown();
  const config = parseConfig({ trustDomain: 'example.org', dataDir: `${harness.dir}/data`, socketPath: harness.socketPath, admin: { listen: '127.0.0.1:0' }, ...overrides }, { baseDir: harness.dir });
  const agent = await startAgent(config, { logger: pino({ level: process.env.MESHID_TEST_LOG ?? 'silent' }) });
  return { ...harness, agent };
}
