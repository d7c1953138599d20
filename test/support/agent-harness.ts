import path from 'node:path';
import pino from 'pino';
import { startAgent, type AgentDependencies, type RunningAgent } from '../../src/agent/agent';
import { parseConfig } from '../../src/agent/config/load';
import type { Clock } from '../../src/common/clock';
import { FakeClock } from './fake-clock';
import { makeTempDir } from './temp-dir';

export interface Harness {
  readonly agent: RunningAgent;
  readonly dir: string;
  readonly socketPath: string;
}

/** Starts a real agent in this process on a temporary socket, with the given YAML-shaped overrides. */
export async function startTestAgent(overrides: Record<string, unknown>, clock?: Clock, deps: AgentDependencies = {}): Promise<Harness> {
  const dir = await makeTempDir('meshid-e2e-');
  const socketPath = path.join(dir, 'sock', 'agent.sock');
  // Port 0: every test agent gets its own admin port (several agents run in one process).
  const config = parseConfig({ trustDomain: 'example.org', dataDir: path.join(dir, 'data'), socketPath, admin: { listen: '127.0.0.1:0' }, ...overrides }, { baseDir: dir });
  // MESHID_TEST_LOG=debug shows the agent's log while debugging a test.
  const agent = await startAgent(config, { logger: pino({ level: process.env.MESHID_TEST_LOG ?? 'silent' }), ...(clock ? { clock } : {}), ...deps });
  waitForAgent(clock, agent);
  return { agent, dir, socketPath };
}

/** On a fake clock, each advance() waits for the mints (and file writes) its timers start. */
export function waitForAgent(clock: Clock | undefined, agent: RunningAgent): void {
  if (clock instanceof FakeClock) clock.waitFor(() => agent.settled());
}
