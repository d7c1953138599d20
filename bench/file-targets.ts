/**
 * Restart → first SVID with N `files:` targets (issue 14: ≤ 1 s with 20), and restart → all N
 * targets written. Each round starts `meshid run` on the dataDir of the round before, stops it
 * (SIGTERM, waits for it to exit) once measured, and measures from the spawn to (a) the first
 * X509SVIDResponse a new workload connection gets, and (b) the moment every target's chain.pem
 * is a file written by this run. Each target has an afterWrite hook that takes
 * --hook-ms (a slow `nginx -s reload` stand-in): it must delay neither figure. The agent runs
 * in its own process, as in production. Prints p50/p90/max and the count over 1 s; never a
 * pass/fail.
 *
 *   npm run bench:files -- [--targets 20] [--restarts 20] [--hook-ms 500] [--cli <other build's dist/src/cli/main.js>]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { firstMessageMs } from './support/fresh-connection';
import { percentile } from './support/stats';

const { values } = parseArgs({ options: { targets: { type: 'string', default: '20' }, restarts: { type: 'string', default: '20' }, 'hook-ms': { type: 'string', default: '500' }, cli: { type: 'string' } } });
const targets = Number(values.targets);
const restarts = Number(values.restarts);
const hookSeconds = Number(values['hook-ms']) / 1000;
// --cli runs another build's agent (e.g. main's, for the figures before this layout).
const MAIN = values.cli ?? path.join(__dirname, '..', 'src', 'cli', 'main.js');
const POLL_MS = 2;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const msSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

/** The inode each target's chain.pem resolves to: a new one per write, in either layout (set directory or renamed file). */
function chainInodes(dir: string, targets: number): (number | undefined)[] {
  return Array.from({ length: targets }, (_, index) => {
    try {
      return statSync(path.join(dir, 'out', `t${index}`, 'chain.pem')).ino;
    } catch {
      return undefined;
    }
  });
}

async function writeConfig(dir: string, socketPath: string, targets: number): Promise<string> {
  const uid = process.getuid?.() ?? 0;
  const files = Array.from({ length: targets }, (_, index) =>
    [
      `  - spiffeId: spiffe://example.org/file-target-${index}`,
      `    certFile: ${dir}/out/t${index}/chain.pem`,
      `    keyFile: ${dir}/out/t${index}/key.pem`,
      `    bundleFile: ${dir}/out/t${index}/bundle.pem`,
      ...(hookSeconds > 0 ? [`    afterWrite: "sleep ${hookSeconds}"`] : []),
    ].join('\n'),
  ).join('\n');
  const config = path.join(dir, 'meshid.yaml');
  await writeFile(
    config,
    `trustDomain: example.org\ndataDir: ${dir}/data\nsocketPath: ${socketPath}\nlogLevel: warn\nadmin:\n  enabled: false\nentries:\n  - spiffeId: spiffe://example.org/bench\n    selectors: ["unix:uid:${uid}"]\n${targets > 0 ? `files:\n${files}\n` : ''}`,
  );
  return config;
}

interface Round {
  firstSvidMs: number;
  allWrittenMs: number;
}

/** One start: spawn, then poll for the first SVID and for every target's new set. */
async function startOnce({ config, dir, socketPath, targets }: Setup): Promise<{ agent: ChildProcess; round: Round }> {
  const before = chainInodes(dir, targets);
  const started = process.hrtime.bigint();
  const agent = spawn(process.execPath, [MAIN, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  let firstSvidMs: number | undefined;
  let allWrittenMs: number | undefined;
  const svid = (async () => {
    for (;;) {
      if (agent.exitCode !== null) throw new Error(`agent exited with ${agent.exitCode}`);
      if (existsSync(socketPath)) {
        try {
          await firstMessageMs(socketPath, 'FetchX509SVID', 5_000);
          firstSvidMs = msSince(started);
          return;
        } catch {
          // the socket file exists but is not served yet (a leftover, or listening under way)
        }
      }
      await sleep(POLL_MS);
    }
  })();
  const written = (async () => {
    for (;;) {
      if (agent.exitCode !== null) throw new Error(`agent exited with ${agent.exitCode}`);
      const now = chainInodes(dir, targets);
      if (now.every((inode, index) => inode !== undefined && inode !== before[index])) {
        allWrittenMs = msSince(started);
        return;
      }
      await sleep(POLL_MS);
    }
  })();
  await Promise.all([svid, written]);
  return { agent, round: { firstSvidMs: firstSvidMs ?? NaN, allWrittenMs: allWrittenMs ?? NaN } };
}

async function stop(agent: ChildProcess): Promise<void> {
  if (agent.exitCode !== null) return;
  const exited = new Promise((resolve) => agent.once('exit', resolve));
  agent.kill('SIGTERM');
  await exited;
}

function summary(label: string, samples: number[]): string {
  return `${label}: p50 ${percentile(samples, 50).toFixed(0)} ms  p90 ${percentile(samples, 90).toFixed(0)} ms  max ${Math.max(...samples).toFixed(0)} ms  over 1 s: ${samples.filter((ms) => ms > 1000).length} of ${samples.length}`;
}

interface Setup {
  readonly targets: number;
  readonly dir: string;
  readonly socketPath: string;
  readonly config: string;
}

async function setUp(count: number): Promise<Setup> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshid-bench-files-'));
  const socketPath = path.join(dir, 'agent.sock');
  return { targets: count, dir, socketPath, config: await writeConfig(dir, socketPath, count) };
}

/**
 * The agent with no files targets is restarted in the same rounds, alternating with the one
 * with N, so both see the same machine load: the difference is what the targets cost.
 */
async function main(): Promise<void> {
  const setups = [await setUp(0), await setUp(targets)];
  console.log(`agent: ${MAIN}`);
  console.log(`restart → first SVID / all targets written: ${targets} files targets with afterWrite "sleep ${hookSeconds}" each, vs none; ${restarts} restarts of each, alternating (a first start of each not counted)`);
  const rounds = new Map<Setup, Round[]>(setups.map((setup) => [setup, []]));
  try {
    for (let restart = 0; restart <= restarts; restart++) {
      for (const setup of setups) {
        const { agent, round } = await startOnce(setup);
        await stop(agent);
        if (restart === 0) continue; // the first start creates the dataDir and the first sets
        rounds.get(setup)?.push(round);
        console.log(`restart ${restart}, ${setup.targets} targets: first SVID ${round.firstSvidMs.toFixed(0)} ms, all written ${round.allWrittenMs.toFixed(0)} ms`);
      }
    }
    for (const setup of setups) {
      const samples = rounds.get(setup) ?? [];
      console.log(summary(`${String(setup.targets).padStart(2)} targets, first SVID         `, samples.map((round) => round.firstSvidMs)));
      if (setup.targets > 0) console.log(summary(`${String(setup.targets).padStart(2)} targets, all targets written`, samples.map((round) => round.allWrittenMs)));
    }
    // Paired by round (the two starts ran back to back under the same load): what the targets add.
    const [none, withTargets] = setups.map((setup) => rounds.get(setup) ?? []);
    const added = (withTargets ?? []).map((round, index) => round.firstSvidMs - (none?.[index]?.firstSvidMs ?? NaN));
    console.log(`first SVID, ${targets} targets minus none, same round: p50 ${percentile(added, 50).toFixed(0)} ms  min ${Math.min(...added).toFixed(0)} ms  max ${Math.max(...added).toFixed(0)} ms`);
    const afterFirst = (withTargets ?? []).map((round) => round.allWrittenMs - round.firstSvidMs);
    console.log(`all targets written minus first SVID: p50 ${percentile(afterFirst, 50).toFixed(0)} ms (negative: the socket waited for the writes)`);
    console.log(`load average at the end: ${os.loadavg().map((load) => load.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs`);
  } finally {
    for (const setup of setups) await rm(setup.dir, { recursive: true, force: true });
  }
}

void main();
