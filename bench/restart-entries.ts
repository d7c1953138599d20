/**
 * Restart with N entries (issue 12): `meshid run` on a warm data dir whose entriesFile grants this
 * uid N identities; timed from spawn until one FetchX509SVID message carries all N SVIDs (entries
 * parsed and validated, node CA loaded, N SVIDs minted and sent). Beside it, a Go crypto/x509
 * program (bench/go-mint, built here with the installed Go) mints N SVIDs on every core, and
 * `go / meshid` is printed: above 1 means meshid restarts faster than Go only mints. The entries
 * file is timed as YAML and as JSON (the same entries); with --baseline DIR another build's dist/
 * runs the YAML file too, interleaved. Prints figures; never a pass/fail.
 *
 *   npm run bench:restart [-- --entries 5000 --runs 3 --baseline /path/to/other/dist]
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { WorkloadApi } from './support/fresh-connection';
import { mainOf } from './support/main-of';
import { percentile } from './support/stats';

const { values } = parseArgs({ options: { entries: { type: 'string', default: '5000' }, runs: { type: 'string', default: '3' }, baseline: { type: 'string' } } });
const count = Number(values.entries);
const runs = Number(values.runs);

type Client = grpc.Client & { FetchX509SVID(request: object, metadata: grpc.Metadata): grpc.ClientReadableStream<{ svids: unknown[] }> };

/** Opens FetchX509SVID until it answers, and resolves when a message carries `count` SVIDs. */
async function allServed(socketPath: string, deadline: number): Promise<void> {
  const metadata = new grpc.Metadata();
  metadata.set('workload.spiffe.io', 'true');
  for (;;) {
    const client = new WorkloadApi(`unix:${socketPath}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 }) as unknown as Client;
    const served = await new Promise<boolean>((resolve) => {
      const call = client.FetchX509SVID({}, metadata);
      call.on('data', (message: { svids: unknown[] }) => {
        if (message.svids.length < count) return;
        resolve(true);
        call.cancel();
      });
      call.once('error', () => resolve(false));
    });
    client.close();
    if (served) return;
    if (Date.now() > deadline) throw new Error('meshid did not serve every SVID in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface Sample {
  ms: number;
  cpuMs: number;
}

/** CPU time (user + system, ms) a process has used so far, from /proc/<pid>/stat fields 14–15. */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
}

async function meshidSetup(dist: string, format: 'yaml' | 'json'): Promise<() => Promise<Sample>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshid-bench-restart-'));
  const socketPath = path.join(dir, 'agent.sock');
  const uid = process.getuid?.() ?? 0;
  const entries = Array.from({ length: count }, (_, i) => ({ spiffeId: `spiffe://example.org/ns/ns-${i % 50}/workload-${i}`, selectors: [`unix:uid:${uid}`], dnsNames: [`workload-${i}.ns-${i % 50}.svc`] }));
  const entriesFile = path.join(dir, `entries.${format}`);
  await writeFile(
    entriesFile,
    format === 'json'
      ? JSON.stringify(entries, null, 1)
      : entries.map((entry) => `- spiffeId: ${entry.spiffeId}\n  selectors: ["${entry.selectors[0]}"]\n  dnsNames: ["${entry.dnsNames[0]}"]\n`).join(''),
  );
  await writeFile(path.join(dir, 'meshid.yaml'), `trustDomain: example.org\ndataDir: ${dir}/data\nsocketPath: ${socketPath}\nlogLevel: warn\nadmin: { enabled: false }\nentriesFile: ${entriesFile}\n`);
  const main = mainOf(dist);
  const run = async (): Promise<Sample> => {
    const started = performance.now();
    const agent = spawn(process.execPath, [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROF] : []), main, 'run', '--config', path.join(dir, 'meshid.yaml')], { stdio: ['ignore', 'ignore', 'inherit'] });
    try {
      await allServed(socketPath, Date.now() + 300_000);
      return { ms: performance.now() - started, cpuMs: cpuMsOf(agent.pid ?? 0) };
    } finally {
      const exited = once(agent, 'exit');
      agent.kill('SIGTERM');
      await exited;
    }
  };
  await run(); // makes the data dir: the timed runs are restarts
  return run;
}

function buildGoMint(): string | undefined {
  const source = path.join(__dirname, '..', '..', 'bench', 'go-mint');
  const binary = path.join(os.tmpdir(), `meshid-go-mint-${process.pid}`);
  try {
    execFileSync('go', ['build', '-o', binary, '.'], { cwd: source, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, GOFLAGS: '-mod=mod' } });
    return binary;
  } catch (error) {
    console.log(`go-mint not built (${(error as Error).message.split('\n')[0] ?? ''}): no Go comparison`);
    return undefined;
  }
}

async function main(): Promise<void> {
  const goMint = buildGoMint();
  const dist = path.join(__dirname, '..');
  const contenders: { label: string; run: () => Promise<Sample>; samples: Sample[] }[] = [
    { label: 'meshid, entries file YAML', run: await meshidSetup(dist, 'yaml'), samples: [] },
    { label: 'meshid, entries file JSON', run: await meshidSetup(dist, 'json'), samples: [] },
  ];
  if (values.baseline) contenders.push({ label: `baseline ${values.baseline}, YAML`, run: await meshidSetup(path.resolve(values.baseline), 'yaml'), samples: [] });
  const go: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    // Interleaved, so a change of load on this shared machine hits every contender alike.
    for (const contender of contenders) contender.samples.push(await contender.run());
    if (goMint) {
      const [ms = Number.NaN, cpuMs = Number.NaN] = execFileSync(goMint, ['-n', String(count)], { encoding: 'utf8' }).trim().split(' ').map(Number);
      go.push({ ms, cpuMs });
    }
  }
  console.log(`restart (warm data dir) → all ${count} SVIDs in one FetchX509SVID message; ${runs} runs each, interleaved; load average ${os.loadavg()[0]?.toFixed(1)} on ${os.cpus().length} cores`);
  // CPU time beside wall time: on a busy machine it is the steadier figure.
  const p50 = (samples: readonly Sample[], pick: (sample: Sample) => number): number => percentile(samples.map(pick), 50);
  const wall = (sample: Sample): number => sample.ms;
  const cpu = (sample: Sample): number => sample.cpuMs;
  if (go.length > 0) console.log(`  ${`Go crypto/x509 minting ${count} on ${os.cpus().length} cores`.padEnd(40)} p50 ${p50(go, wall).toFixed(0)} ms, CPU ${p50(go, cpu).toFixed(0)} ms`);
  for (const { label, samples } of contenders) {
    const ratios = go.length > 0 ? `  go / meshid: wall ${(p50(go, wall) / p50(samples, wall)).toFixed(2)}x, CPU ${(p50(go, cpu) / p50(samples, cpu)).toFixed(2)}x` : '';
    console.log(`  ${label.padEnd(40)} p50 ${p50(samples, wall).toFixed(0)} ms, CPU ${p50(samples, cpu).toFixed(0)} ms${ratios}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
