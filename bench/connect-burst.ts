/**
 * A node draining and refilling (issue 12): N workloads connect to the agent's socket in the same
 * instant, and each opens FetchX509SVID. Every connect(2) is issued in one tick, so the listen
 * backlog has to hold all that the agent has not accepted yet; a full queue refuses a unix-socket
 * connect at once with EAGAIN. Clients speak raw HTTP/2 + gRPC framing over the socket they
 * connected (cheaper than a grpc-js channel each, so the bench's own CPU disturbs less).
 * Meanwhile a probe process (bench/support/burst-probe.ts) loops over `meshid healthcheck`'s call (FetchX509Bundles on a new
 * connection) and the admin /ready, each timed. Prints refused connects, connect → first SVID
 * p50/p99, and the probes' latency during the burst; never a pass/fail. The agent runs in its own
 * process. Linux caps the backlog at net.core.somaxconn (printed).
 *
 *   npm run bench:burst [-- --connections 1000 --rounds 3]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { mainOf } from './support/main-of';
import { percentile } from './support/stats';

const { values } = parseArgs({ options: { connections: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '3' }, main: { type: 'string' } } });
const connections = Number(values.connections);
const rounds = Number(values.rounds);

const elapsedMs = (started: bigint): number => Number(process.hrtime.bigint() - started) / 1e6;
const GRPC_EMPTY_MESSAGE = Buffer.from([0, 0, 0, 0, 0]);

type Outcome = { kind: 'refused'; code: string } | { kind: 'failed'; reason: string } | { kind: 'ok'; ms: number; session: http2.ClientHttp2Session };

/** One gRPC server-streaming call on an already connected socket: resolves at the first message. */
function firstMessage(socket: net.Socket, rpc: string, started: bigint, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const session = http2.connect('http://localhost', { createConnection: () => socket });
    const timer = setTimeout(() => done({ kind: 'failed', reason: 'timeout' }), timeoutMs);
    let settled = false;
    const done = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (outcome.kind !== 'ok') session.destroy();
      resolve(outcome);
    };
    session.on('error', (error: NodeJS.ErrnoException) => done({ kind: 'failed', reason: error.code ?? error.message }));
    const stream = session.request({ ':method': 'POST', ':path': `/SpiffeWorkloadAPI/${rpc}`, 'content-type': 'application/grpc', te: 'trailers', 'workload.spiffe.io': 'true' });
    stream.on('error', (error: NodeJS.ErrnoException) => done({ kind: 'failed', reason: error.code ?? error.message }));
    stream.on('response', (headers) => {
      const status = headers['grpc-status'];
      if (status !== undefined && status !== '0') done({ kind: 'failed', reason: `grpc-status ${String(status)} ${String(headers['grpc-message'] ?? '')}` });
    });
    stream.on('trailers', (trailers) => done({ kind: 'failed', reason: `grpc-status ${String(trailers['grpc-status'])} ${String(trailers['grpc-message'] ?? '')}` }));
    stream.once('data', () => done({ kind: 'ok', ms: elapsedMs(started), session }));
    stream.end(GRPC_EMPTY_MESSAGE);
  });
}

function connectAndFetch(socketPath: string, rpc: string, timeoutMs = 30_000): Promise<Outcome> {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once('error', (error: NodeJS.ErrnoException) => resolve({ kind: 'refused', code: error.code ?? error.message }));
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(firstMessage(socket, rpc, started, timeoutMs));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

const fmt = (samples: readonly number[]): string =>
  samples.length === 0 ? 'no samples' : `p50 ${percentile(samples, 50).toFixed(1)} ms  p99 ${percentile(samples, 99).toFixed(1)} ms  max ${Math.max(...samples).toFixed(1)} ms  (n=${samples.length})`;

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshid-bench-burst-'));
  const socketPath = path.join(dir, 'agent.sock');
  const port = await freePort();
  const uid = process.getuid?.() ?? 0;
  await writeFile(
    path.join(dir, 'meshid.yaml'),
    `trustDomain: example.org\ndataDir: ${dir}/data\nsocketPath: ${socketPath}\nlogLevel: warn\nadmin: { enabled: true, listen: "127.0.0.1:${port}" }\nconnections: { maxPerUid: ${connections * 2 + 100}, maxTotal: ${connections * 2 + 100} }\nentries:\n  - spiffeId: spiffe://example.org/bench\n    selectors: ["unix:uid:${uid}"]\n`,
  );
  const main = values.main ?? mainOf(path.join(__dirname, '..'));
  const agent = spawn(process.execPath, [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROF] : []), main, 'run', '--config', path.join(dir, 'meshid.yaml')], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    for (let attempt = 0; ; attempt++) {
      const outcome = await connectAndFetch(socketPath, 'FetchX509SVID', 5_000);
      if (outcome.kind === 'ok') {
        outcome.session.destroy();
        break;
      }
      if (attempt > 300) throw new Error(`agent did not start: ${JSON.stringify(outcome)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    console.log(`${connections} simultaneous connects, each then FetchX509SVID; ${rounds} rounds; net.core.somaxconn ${readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim()}; load average ${os.loadavg()[0]?.toFixed(1)} on ${os.cpus().length} cores`);
    const idleHealth: number[] = [];
    for (let i = 0; i < 20; i++) {
      const outcome = await connectAndFetch(socketPath, 'FetchX509Bundles');
      if (outcome.kind === 'ok') {
        idleHealth.push(outcome.ms);
        outcome.session.destroy();
      }
    }
    console.log(`health check (FetchX509Bundles, new connection) idle: ${fmt(idleHealth)}`);
    for (let round = 1; round <= rounds; round++) {
      const cpuBefore = cpuMsOf(agent.pid ?? 0);
      const probe = spawn(process.execPath, [path.join(__dirname, 'support', 'burst-probe.js'), socketPath, String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
      let probeOutput = '';
      probe.stdout.on('data', (chunk: Buffer) => (probeOutput += chunk.toString()));
      const probeDone = new Promise((resolve) => probe.once('exit', resolve));
      await new Promise((resolve) => setTimeout(resolve, 300)); // the probe process is up and probing
      const started = process.hrtime.bigint();
      const outcomes = await Promise.all(Array.from({ length: connections }, () => connectAndFetch(socketPath, 'FetchX509SVID')));
      const burstMs = elapsedMs(started);
      probe.stdin.end();
      await probeDone;
      const probed = JSON.parse(probeOutput) as { ready: number[]; health: number[]; failures: string[] };
      const agentCpuMs = cpuMsOf(agent.pid ?? 0) - cpuBefore;
      const ok = outcomes.flatMap((outcome) => (outcome.kind === 'ok' ? [outcome] : []));
      const refused = new Map<string, number>();
      const failed = new Map<string, number>();
      for (const outcome of outcomes) {
        if (outcome.kind === 'refused') refused.set(outcome.code, (refused.get(outcome.code) ?? 0) + 1);
        if (outcome.kind === 'failed') failed.set(outcome.reason, (failed.get(outcome.reason) ?? 0) + 1);
      }
      const counts = (map: Map<string, number>): string => [...map].map(([what, count]) => `${count}× ${what}`).join(', ') || '0';
      console.log(`round ${round}: refused ${counts(refused)}; failed after connect ${counts(failed)}; served ${ok.length} in ${burstMs.toFixed(0)} ms (agent CPU ${(agentCpuMs / Math.max(1, ok.length)).toFixed(2)} ms per connection)`);
      console.log(`  connect → first X509SVIDResponse: ${fmt(ok.map((outcome) => outcome.ms))}`);
      console.log(`  admin /ready during burst (the DaemonSet's probe): ${fmt(probed.ready)}`);
      console.log(`  health check during burst (FetchX509Bundles, new connection, as meshid healthcheck): ${fmt(probed.health)}${probed.failures.length ? `; failed: ${probed.failures.join(', ')}` : ''}`);
      for (const outcome of ok) outcome.session.destroy();
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // let the agent close them all
    }
  } finally {
    agent.kill('SIGTERM');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
