/**
 * Start → ready, warm data dir (issue 12): `meshid run` spawned N times on the same config and
 * data dir (one untimed start first makes the CA), timing from spawn to the first 200 from the
 * admin /ready, and to the first X509SVIDResponse right after it. The agent's CPU time at ready
 * (/proc/<pid>/stat) is printed beside the wall time: on a busy machine it is the steadier figure.
 * With --baseline DIR (a second build's dist/), both builds run interleaved, run for run, and the
 * ratio is printed: an A/B on the same load. Unless --no-spire, a spire-agent v1.13.3 on a
 * spire-server is restarted N times the same way (warm data dir: its cached agent SVID), timing
 * spawn → first X509SVIDResponse. Prints figures; never a pass/fail.
 *
 *   npm run bench:startup [-- --runs 20 --baseline /path/to/other/dist --no-spire]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { peerAvailable, peerPath } from '../test/support/peers';
import { firstMessageMs } from './support/fresh-connection';
import { mainOf } from './support/main-of';
import { percentile } from './support/stats';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, baseline: { type: 'string' }, 'no-spire': { type: 'boolean', default: false } } });
const runs = Number(values.runs);

interface Sample {
  readyMs: number;
  cpuAtReadyMs: number;
  svidMs: number;
}

const elapsedMs = (started: bigint): number => Number(process.hrtime.bigint() - started) / 1e6;

/** CPU time (user + system, ms) a process has used so far, from /proc/<pid>/stat fields 14–15. */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

function readyStatus(port: number): Promise<number> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/ready', agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.once('error', () => resolve(0));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** A meshid build (its dist/ directory) with its own config and warm data dir. */
async function meshidSetup(dist: string): Promise<() => Promise<Sample>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshid-bench-startup-'));
  const socketPath = path.join(dir, 'agent.sock');
  const port = await freePort();
  const config = path.join(dir, 'meshid.yaml');
  const uid = process.getuid?.() ?? 0;
  await writeFile(
    config,
    `trustDomain: example.org\ndataDir: ${dir}/data\nsocketPath: ${socketPath}\nlogLevel: warn\nadmin: { enabled: true, listen: "127.0.0.1:${port}" }\nentries:\n  - spiffeId: spiffe://example.org/bench\n    selectors: ["unix:uid:${uid}"]\n`,
  );
  const main = mainOf(dist);
  const once = async (): Promise<Sample> => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [main, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
    try {
      for (;;) {
        if (child.exitCode !== null) throw new Error(`meshid exited with ${child.exitCode}`);
        if ((await readyStatus(port)) === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const readyMs = elapsedMs(started);
      const cpuAtReadyMs = cpuMsOf(child.pid ?? 0);
      await firstMessageMs(socketPath, 'FetchX509SVID', 10_000);
      return { readyMs, cpuAtReadyMs, svidMs: elapsedMs(started) };
    } finally {
      await stop(child);
    }
  };
  await once(); // makes the data dir: the timed runs are restarts
  return once;
}

/** spire-agent restarted on its data dir (the cached agent SVID) beside a spire-server. */
async function spireSetup(): Promise<{ run: () => Promise<number>; close: () => Promise<void> }> {
  const { SpireServer } = await import('../test/spire/support/spire-server.js');
  const server = await SpireServer.start({ dir: await mkdtemp(path.join(os.tmpdir(), 'meshid-bench-spire-server-')) });
  const { token, agentId } = await server.joinToken();
  await server.createEntry({ parentId: agentId, spiffeId: 'spiffe://example.org/bench', selectors: [`unix:uid:${process.getuid?.() ?? 0}`] });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshid-bench-spire-agent-'));
  await mkdir(path.join(dir, 'data'));
  const socketPath = path.join(dir, 'agent.sock');
  await writeFile(path.join(dir, 'bootstrap.pem'), await server.bundlePem());
  const configFile = path.join(dir, 'agent.conf');
  await writeFile(
    configFile,
    `agent {
  data_dir = "${path.join(dir, 'data')}"
  log_level = "WARN"
  server_address = "127.0.0.1"
  server_port = "${server.port}"
  socket_path = "${socketPath}"
  trust_bundle_path = "${path.join(dir, 'bootstrap.pem')}"
  trust_domain = "${server.trustDomain}"
  join_token = "${token}"
}
plugins {
  NodeAttestor "join_token" {
    plugin_data {}
  }
  KeyManager "disk" {
    plugin_data { directory = "${path.join(dir, 'data')}" }
  }
  WorkloadAttestor "unix" {
    plugin_data {}
  }
}
`,
  );
  const run = async (): Promise<number> => {
    const started = process.hrtime.bigint();
    const child = spawn(peerPath('spire-agent'), ['run', '-config', configFile], { stdio: ['ignore', 'ignore', 'inherit'] });
    try {
      for (;;) {
        if (child.exitCode !== null) throw new Error(`spire-agent exited with ${child.exitCode}`);
        try {
          await firstMessageMs(socketPath, 'FetchX509SVID', 2_000);
          return elapsedMs(started);
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      }
    } finally {
      await stop(child);
    }
  };
  await run(); // attests with the join token and caches its SVID: the timed runs are restarts
  return { run, close: () => server.stop() };
}

const row = (label: string, samples: readonly number[]): string =>
  `${label.padEnd(44)} p50 ${percentile(samples, 50).toFixed(0).padStart(5)} ms  p99 ${percentile(samples, 99).toFixed(0).padStart(5)} ms  (n=${samples.length})`;

async function main(): Promise<void> {
  const dist = path.join(__dirname, '..');
  const builds: { label: string; run: () => Promise<Sample>; samples: Sample[] }[] = [{ label: 'meshid', run: await meshidSetup(dist), samples: [] }];
  if (values.baseline) builds.push({ label: `baseline (${values.baseline})`, run: await meshidSetup(path.resolve(values.baseline)), samples: [] });
  const spire = !values['no-spire'] && peerAvailable('spire-agent') && peerAvailable('spire-server') ? await spireSetup() : undefined;
  const spireSamples: number[] = [];
  const bare: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      // Interleaved: each round runs every contender once, so load changes hit all of them alike.
      for (const build of builds) build.samples.push(await build.run());
      if (spire) spireSamples.push(await spire.run());
      const started = process.hrtime.bigint();
      const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
      await once(child, 'exit');
      bare.push(elapsedMs(started));
    }
  } finally {
    await spire?.close();
  }
  console.log(`start → ready, warm data dir, ${runs} runs each, interleaved (load average now ${os.loadavg()[0]?.toFixed(1)} on ${os.cpus().length} cores)`);
  console.log(row('bare `node -e 0`', bare));
  for (const build of builds) {
    console.log(row(`${build.label}: spawn → /ready 200`, build.samples.map((s) => s.readyMs)));
    console.log(row(`${build.label}: agent CPU used by /ready`, build.samples.map((s) => s.cpuAtReadyMs)));
    console.log(row(`${build.label}: spawn → first X509SVIDResponse`, build.samples.map((s) => s.svidMs)));
  }
  const [current, baseline] = builds;
  if (current && baseline) {
    const ratio = (pick: (s: Sample) => number): string => (percentile(current.samples.map(pick), 50) / percentile(baseline.samples.map(pick), 50)).toFixed(2);
    console.log(`meshid / baseline (p50): /ready ${ratio((s) => s.readyMs)}, CPU at ready ${ratio((s) => s.cpuAtReadyMs)}, first SVID ${ratio((s) => s.svidMs)}`);
  }
  if (spire && current) {
    console.log(row('spire-agent v1.13.3: spawn → first X509SVIDResponse', spireSamples));
    console.log(`meshid / spire-agent (p50, spawn → first SVID): ${(percentile(current.samples.map((s) => s.svidMs), 50) / percentile(spireSamples, 50)).toFixed(2)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
