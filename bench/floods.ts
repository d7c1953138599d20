/**
 * Floods against a real agent process (issue 14, findings 1–3). Prints figures, never pass/fail:
 * - a bystander's FetchX509SVID latency (fresh connection each, as a starting workload) when idle,
 *   during an fd flood from an unregistered uid (1301, bench/support/fd-flood.py: 2,000 held
 *   connections and a churn of connection errors), and during a Delta name flood;
 * - the agent's fds and RSS around each flood, and what its metrics counted.
 * The Delta flood sends 2 million unknown names, 1,024 per request, on one stream (refused at
 * maxNamesPerStream), then fills as many streams as 2 million names need at 4,096 each: the
 * per-stream cap does not bound a caller that opens many streams, and the figure shows what that
 * costs. Needs root (the flood runs under uid 1301).
 *
 *   npm run bench:floods  [-- --names 2000000 --samples 200]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_DIR, SDS_PROTO } from '../src/common/proto-files';
import { REQUEST_LIMITS } from '../src/serving/request-limits';
import { firstMessageMs } from './support/fresh-connection';
import { percentile } from './support/stats';

const { values } = parseArgs({ options: { names: { type: 'string', default: '2000000' }, samples: { type: 'string', default: '200' } } });
const floodNames = Number(values.names);
const samples = Number(values.samples);
const SECRET_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

const loaderOptions = { keepCase: true, includeDirs: [PROTO_DIR] };
const Sds = (grpc.loadPackageDefinition(protoLoader.loadSync(SDS_PROTO, loaderOptions)) as unknown as { envoy: { service: { secret: { v3: { SecretDiscoveryService: grpc.ServiceClientConstructor } } } } }).envoy.service.secret.v3.SecretDiscoveryService;

type SdsClient = grpc.Client & { DeltaSecrets(): grpc.ClientDuplexStream<object, unknown> };


async function bystander(socketPath: string, label: string): Promise<void> {
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  for (let i = 0; i < samples; i++) {
    await firstMessageMs(socketPath, 'FetchX509SVID', 5_000).then(
      (ms) => latencies.push(ms),
      (error: grpc.ServiceError) => failures.set(error.details, (failures.get(error.details) ?? 0) + 1),
    );
  }
  const fmt = (p: number): string => percentile(latencies, p).toFixed(1);
  const failed = [...failures].map(([details, count]) => `${count}× ${details}`).join('; ');
  console.log(`  bystander fetch ${label}: p50 ${fmt(50)} ms, p99 ${fmt(99)} ms, max ${fmt(100)} ms over ${latencies.length} answered; failed: ${failed || 'none'}`);
}

function agentFigures(pid: number): { fds: number; rssMb: number } {
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '0';
  return { fds: readdirSync(`/proc/${pid}/fd`).length, rssMb: Math.round(Number(rss) / 1024) };
}

async function metric(adminPort: number, name: string): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  return text.split('\n').filter((line) => line.startsWith(name)).join('; ') || `${name} (none)`;
}

function readLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', (data: Buffer) => resolve(data.toString().trim()));
    child.once('exit', (code) => reject(new Error(`flood exited with ${String(code)}`)));
  });
}

/** Streams of Delta requests of unknown names; resolves with how each stream ended. */
async function deltaFlood(socketPath: string, names: number, streams: number): Promise<{ refused: number; held: number }> {
  const client = new Sds(`unix:${socketPath}`, grpc.credentials.createInsecure()) as unknown as SdsClient;
  const perRequest = REQUEST_LIMITS.maxNamesPerRequest;
  const perStream = Math.ceil(names / streams);
  let refused = 0;
  let held = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: streams }, async () => {
      const call = client.DeltaSecrets();
      let over = false;
      const ended = new Promise<boolean>((resolve) => {
        call.on('data', () => undefined);
        call.once('error', (error: grpc.ServiceError) => {
          over = true;
          resolve(error.code === grpc.status.RESOURCE_EXHAUSTED);
        });
      });
      // A refused stream stops the flood on it (a client would have to open another).
      for (let sent = 0; sent < perStream && !over; sent += perRequest) {
        const subscribe = Array.from({ length: Math.min(perRequest, perStream - sent) }, () => `flood-${next++}`);
        if (!call.write({ type_url: SECRET_TYPE_URL, resource_names_subscribe: subscribe })) await Promise.race([new Promise((resolve) => call.once('drain', resolve)), ended]);
      }
      const outcome = await Promise.race([ended, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000))]);
      call.cancel();
      if (outcome) refused++;
      else held++;
    }),
  );
  return { refused, held };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshid-bench-floods-'));
  await chmod(dir, 0o755); // uid 1301 must reach the socket
  const socketPath = path.join(dir, 'agent.sock');
  const adminPort = 18000 + (process.pid % 1000);
  const uid = process.getuid?.() ?? 0;
  await writeFile(
    path.join(dir, 'meshid.yaml'),
    `trustDomain: example.org\ndataDir: ${dir}/data\nsocketPath: ${socketPath}\nlogLevel: error\nadmin: { listen: "127.0.0.1:${adminPort}" }\nentries:\n  - spiffeId: spiffe://example.org/bystander\n    selectors: ["unix:uid:${uid}"]\n`,
  );
  // The heap limit the shipped Kubernetes manifest sets.
  const agent = spawn(process.execPath, ['--max-old-space-size=192', path.join(__dirname, '..', 'src', 'cli', 'main.js'), 'run', '--config', path.join(dir, 'meshid.yaml')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const pid = agent.pid ?? 0;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await firstMessageMs(socketPath, 'FetchX509SVID', 5_000);
        break;
      } catch (error) {
        if (attempt > 200) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    console.log(`meshid floods bench: agent pid ${pid}, --max-old-space-size=192, ${samples} bystander fetches per phase`);
    console.log(`  idle agent: ${JSON.stringify(agentFigures(pid))}`);
    await bystander(socketPath, 'idle');

    const flood = spawn('/usr/bin/python3', [path.join(__dirname, '..', '..', 'bench', 'support', 'fd-flood.py'), socketPath, '2000'], { uid: 1301, gid: 1301, stdio: ['pipe', 'pipe', 'inherit'] });
    console.log(`fd flood from uid 1301 (no entry): ${await readLine(flood)}`);
    console.log(`  agent during the flood: ${JSON.stringify(agentFigures(pid))}`);
    await bystander(socketPath, 'during the fd flood');
    const summary = readLine(flood);
    flood.stdin?.end();
    console.log(`  flood ended: ${await summary}`);
    const settleStarted = performance.now();
    console.log(`  agent right after: ${JSON.stringify(agentFigures(pid))} (held connections close as the client exits)`);
    await new Promise((resolve) => setTimeout(resolve, 8_000)); // leftover dead sessions: probe interval + timeout
    console.log(`  agent ${((performance.now() - settleStarted) / 1000).toFixed(0)} s later: ${JSON.stringify(agentFigures(pid))}`);
    console.log(`  ${await metric(adminPort, 'meshid_connections_refused_total')}`);
    console.log(`  ${await metric(adminPort, 'meshid_connections_closed_total')}`);

    console.log(`Delta flood: ${floodNames} unknown names, ${REQUEST_LIMITS.maxNamesPerRequest} per request`);
    const one = deltaFlood(socketPath, floodNames, 1);
    await bystander(socketPath, 'during the one-stream Delta flood');
    console.log(`  one stream: ${JSON.stringify(await one)}; agent ${JSON.stringify(agentFigures(pid))}`);
    const streams = Math.ceil(floodNames / REQUEST_LIMITS.maxNamesPerStream);
    const many = deltaFlood(socketPath, floodNames, streams);
    await bystander(socketPath, `during the Delta flood over ${streams} streams`);
    console.log(`  ${streams} streams of ≤${REQUEST_LIMITS.maxNamesPerStream}: ${JSON.stringify(await many)}; agent ${JSON.stringify(agentFigures(pid))}${agent.exitCode !== null ? ` — agent EXITED ${agent.exitCode}` : ''}`);
  } finally {
    agent.kill('SIGTERM');
  }
  process.exit(0);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
