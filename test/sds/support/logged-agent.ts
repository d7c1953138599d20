import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { startAgent } from '../../../src/agent/agent';
import { parseConfig } from '../../../src/agent/config/load';
import type { Clock } from '../../../src/common/clock';
import { waitForAgent, type Harness } from '../../support/agent-harness';
import { makeTempDir } from '../../support/temp-dir';

export interface LoggedHarness extends Harness {
  /** Every log record the agent wrote, parsed, in order. */
  readonly logs: Record<string, unknown>[];
}

/**
 * startTestAgent with the agent's log captured (level warn and above), for tests that check
 * what an operator would see, e.g. the reason Envoy gave for a NACK.
 */
export async function startLoggedAgent(overrides: Record<string, unknown>, clock?: Clock): Promise<LoggedHarness> {
  const dir = await makeTempDir('meshid-e2e-');
  const socketPath = path.join(dir, 'sock', 'agent.sock');
  const config = parseConfig({ trustDomain: 'example.org', dataDir: path.join(dir, 'data'), socketPath, admin: { listen: '127.0.0.1:0' }, ...overrides }, { baseDir: dir });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const agent = await startAgent(config, { logger: pino({ level: 'warn' }, sink), ...(clock ? { clock } : {}) });
  waitForAgent(clock, agent);
  return { agent, dir, socketPath, logs };
}
