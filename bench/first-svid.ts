/**
 * Time from connect to the first X509SVIDResponse for N concurrent new workload connections.
 * The agent runs in its own process (as in production) so the clients' work does not share its
 * event loop. Each client is a new grpc-js channel, i.e. a new unix socket connection that the
 * agent must accept, credential, attest and answer. Prints p50/p99/max; never a pass/fail.
 *
 *   node dist/bench/first-svid.js [--connections 100] [--rounds 5]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { firstMessageMs } from './support/fresh-connection';
import { percentile } from './support/stats';

const { values } = parseArgs({ options: { connections: { type: 'string', default: '100' }, rounds: { type: 'string', default: '5' } } });
const connections = Number(values.connections);
const rounds = Number(values.rounds);

async function startAgent(): Promise<{ socketPath: string; agent: ChildProcess }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshid-bench-'));
  const socketPath = path.join(dir, 'agent.sock');
  const uid = process.getuid?.() ?? 0;
  await writeFile(
    path.join(dir, 'meshid.yaml'),
    `trustDomain: example.org\ndataDir: ${dir}/data\nsocketPath: ${socketPath}\nlogLevel: warn\nentries:\n  - spiffeId: spiffe://example.org/bench\n    selectors: ["unix:uid:${uid}"]\n`,
  );
  const agent = spawn(process.execPath, [path.join(__dirname, '..', 'src', 'cli', 'main.js'), 'run', '--config', path.join(dir, 'meshid.yaml')], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    try {
      await firstMessageMs(socketPath, 'FetchX509SVID');
      return { socketPath, agent };
    } catch {
      // not up yet
    }
  }
  agent.kill();
  throw new Error('agent did not start');
}


/** CPU time (user + system, ms) a process has used so far, from /proc/<pid>/stat fields 14–15. */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
}

async function main(): Promise<void> {
  const { socketPath, agent } = await startAgent();
  try {
    const all: number[] = [];
    const agentCpuBefore = cpuMsOf(agent.pid ?? 0);
    const clientCpuBefore = process.cpuUsage();
    console.log(`connect → first X509SVIDResponse, ${connections} concurrent new connections, ${rounds} rounds`);
    for (let round = 1; round <= rounds; round++) {
      const latencies = await Promise.all(Array.from({ length: connections }, () => firstMessageMs(socketPath, 'FetchX509SVID')));
      all.push(...latencies);
      console.log(`round ${round}: p50 ${percentile(latencies, 50).toFixed(2)} ms  p99 ${percentile(latencies, 99).toFixed(2)} ms  max ${Math.max(...latencies).toFixed(2)} ms`);
    }
    console.log(`all ${all.length}: p50 ${percentile(all, 50).toFixed(2)} ms  p99 ${percentile(all, 99).toFixed(2)} ms`);
    // Both sides share this machine's cores, so the per-connection CPU of each explains the figure.
    const clientCpu = process.cpuUsage(clientCpuBefore);
    console.log(`CPU per connection: agent ${((cpuMsOf(agent.pid ?? 0) - agentCpuBefore) / all.length).toFixed(2)} ms, bench clients ${((clientCpu.user + clientCpu.system) / 1000 / all.length).toFixed(2)} ms`);
  } finally {
    agent.kill('SIGTERM');
  }
}

void main();
