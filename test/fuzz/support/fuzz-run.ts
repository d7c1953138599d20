import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { MESHID_MAIN } from '../../support/meshid-cli';
import { derCertificatesToPem, pemBlocks } from '../../support/pem';
import { securityHeader, StreamReader, workloadClient, type X509SvidResponse } from '../../support/workload-client';
import { makeCase, type FuzzCase } from './cases';
import { FUZZ_SPIFFE_ID } from './rpcs';

export interface FuzzOptions {
  readonly seed: number;
  /** How many cases, from index `from` (default 0). */
  readonly cases: number;
  readonly from?: number;
  /** Connections in flight at once. */
  readonly concurrency?: number;
  /** Progress lines (the bench prints them; the test stays quiet). */
  readonly log?: (line: string) => void;
}

export interface FuzzReport {
  readonly seed: number;
  readonly from: number;
  readonly casesRun: number;
  /** Connections refused at connect (accept queue full) or closed at accept (a cap). */
  readonly connectRefused: number;
  readonly crashes: number;
  readonly fdBaseline: number;
  readonly fdAfter: number;
  readonly rssBeforeMb: number;
  readonly rssPeakMb: number;
  readonly rssAfterMb: number;
  readonly elapsedMs: number;
  /** Of which: sending the cases, and waiting for the agent to close what they left. */
  readonly casesMs: number;
  readonly settleMs: number;
  readonly svidVerified: boolean;
  /** Empty when every check passed; each says how to reproduce. */
  readonly failures: readonly string[];
}

/** The agent runs with the heap limit of the shipped Kubernetes manifest. */
const HEAP_LIMIT_MB = 192;
/** RSS may grow by this much over the run (V8 keeps freed heap for a while); a leak grows without bound. */
export const RSS_GROWTH_LIMIT_MB = 96;
/** Bounds on waits that end on real I/O; hitting one is a failure, never what is measured. */
const SETTLE_LIMIT_MS = 60_000;
const START_LIMIT_MS = 30_000;
/** Held connections are closed oldest first beyond this many. */
const MAX_HELD = 128;

const fdCount = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;
function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '0';
  return Math.round(Number(kb) / 1024);
}

async function waitFor(condition: () => boolean, limitMs: number, pollMs = 50): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return true;
}

/** A spawned `meshid run`, with the tail of its output kept for failure reports. */
class AgentUnderFuzz {
  private output: string[] = [];
  /**
   * Lines of a fatal error, kept apart from the tail: Node prints the reason ("Assertion failed:
   * ...") above a native stack trace longer than the tail, and the reason classifies the crash.
   */
  private readonly fatal: string[] = [];
  /** FUZZ_AGENT_NODE_FLAGS adds node flags to the agent (e.g. --heapsnapshot-near-heap-limit=1). */
  exited: string | undefined;
  adminAddress = '';

  private constructor(readonly child: ChildProcess & { pid: number }) {
    const keep = (chunk: Buffer): void => {
      const lines = chunk.toString().split('\n').filter(Boolean);
      this.fatal.push(...lines.filter((line) => /Assertion failed|FATAL ERROR|# Fatal error/.test(line)));
      this.output.push(...lines);
      if (this.output.length > 40) this.output = this.output.slice(-40);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('exit', (code, signal) => (this.exited = `exit ${code ?? signal}`));
  }

  static async start(configFile: string, cwd: string): Promise<AgentUnderFuzz> {
    const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_LIMIT_MB}`, ...(process.env.FUZZ_AGENT_NODE_FLAGS ?? '').split(' ').filter(Boolean), MESHID_MAIN, 'run', '--config', configFile], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) throw new Error('meshid run did not start');
    const agent = new AgentUnderFuzz(child as ChildProcess & { pid: number });
    const serving = await waitFor(() => agent.exited !== undefined || agent.output.some((line) => line.includes('meshid agent serving')), START_LIMIT_MS);
    const line = agent.output.find((entry) => entry.includes('meshid agent serving'));
    if (!serving || !line) throw new Error(`the agent did not start (${agent.exited ?? 'no serving line'}):\n${agent.tail()}`);
    agent.adminAddress = (JSON.parse(line) as { admin: string }).admin;
    return agent;
  }

  get pid(): number {
    return this.child.pid;
  }

  tail(): string {
    return [...this.fatal, ...this.output.slice(-15)].join('\n');
  }

  async stop(): Promise<string> {
    if (this.exited) return this.exited;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const bound = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(bound);
    return this.exited ?? 'exited';
  }
}

/**
 * One connection: connect, write the case's bytes, then close at once (FIN, then the fd) or hold
 * the connection open until `held` evicts it. Everything the agent sends is read and dropped.
 * Resolves false when the connection was refused before it carried anything.
 */
function runCase(socketPath: string, fuzzCase: FuzzCase, held: net.Socket[]): Promise<boolean> {
  return new Promise((resolve) => {
    let connected = false;
    let settled = false;
    const done = (): void => {
      if (settled) return;
      settled = true;
      resolve(connected);
    };
    const socket = net.connect(socketPath);
    socket.on('data', () => undefined);
    socket.on('error', () => socket.destroy());
    socket.once('close', done);
    socket.once('connect', () => {
      connected = true;
      if (!fuzzCase.hold) {
        socket.end(fuzzCase.bytes, () => {
          socket.destroy();
          done();
        });
        return;
      }
      socket.write(fuzzCase.bytes, () => {
        held.push(socket);
        while (held.length > MAX_HELD) held.shift()?.destroy();
        done();
      });
    });
  });
}

/** A real client's FetchX509SVID: the SVID must be the fuzz identity and chain to the bundle. */
async function verifySvid(socketPath: string): Promise<string | undefined> {
  const client = workloadClient(socketPath);
  const reader = new StreamReader<X509SvidResponse>(client.FetchX509SVID({}, securityHeader()));
  try {
    const response = await reader.next(10_000);
    const svid = response.svids[0];
    if (response.svids.length !== 1 || !svid) return `expected one SVID, got ${response.svids.length}`;
    if (svid.spiffe_id !== FUZZ_SPIFFE_ID) return `SVID for ${svid.spiffe_id}, expected ${FUZZ_SPIFFE_ID}`;
    const chain = pemBlocks(derCertificatesToPem(svid.x509_svid)).map((pem) => new X509Certificate(pem));
    const roots = pemBlocks(derCertificatesToPem(svid.bundle)).map((pem) => new X509Certificate(pem));
    const leaf = chain[0];
    if (!leaf || roots.length === 0) return 'empty chain or bundle';
    if (!leaf.subjectAltName?.includes(`URI:${FUZZ_SPIFFE_ID}`)) return `leaf SAN ${leaf.subjectAltName ?? 'none'}`;
    const now = new Date();
    for (const [i, certificate] of chain.entries()) {
      if (new Date(certificate.validFrom) > now || new Date(certificate.validTo) < now) return `chain[${i}] is not valid now`;
      const issuer = chain[i + 1];
      if (issuer && !(certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey))) return `chain[${i}] is not signed by chain[${i + 1}]`;
    }
    const top = chain[chain.length - 1] ?? leaf;
    if (!roots.some((root) => top.checkIssued(root) && top.verify(root.publicKey))) return 'the chain does not verify under any bundle root';
    const key = createPublicKey(createPrivateKey({ key: svid.x509_svid_key, format: 'der', type: 'pkcs8' })).export({ type: 'spki', format: 'der' });
    if (!key.equals(leaf.publicKey.export({ type: 'spki', format: 'der' }))) return 'the key does not match the leaf';
    return undefined;
  } catch (error) {
    return `FetchX509SVID failed: ${(error as Error).message}`;
  } finally {
    reader.call.cancel();
    client.close();
  }
}

function live(adminAddress: string): Promise<number> {
  return new Promise((resolve) => {
    // agent: false → Connection: close, so the probe leaves no socket open in the agent.
    const request = http.get(`http://${adminAddress}/live`, { agent: false }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
    });
    request.once('error', () => resolve(0));
  });
}

/**
 * Runs `cases` fuzz cases against a spawned `meshid run` on a temporary socket, then checks that
 * the agent is alive, its fds are back to where they were before the first case, its RSS grew
 * by less than RSS_GROWTH_LIMIT_MB, and a real client still gets a valid SVID.
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const { seed, cases } = options;
  const from = options.from ?? 0;
  const concurrency = options.concurrency ?? 32;
  const log = options.log ?? (() => undefined);
  const failures: string[] = [];
  const reproduce = (first: number, count: number): string => `reproduce: npm run fuzz -- --seed ${seed} --from ${first} --cases ${count} --concurrency 1`;

  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshid-fuzz-'));
  await chmod(dir, 0o755);
  const socketPath = path.join(dir, 'agent.sock');
  const configFile = path.join(dir, 'meshid.yaml');
  await writeFile(
    configFile,
    [`trustDomain: example.org`, `dataDir: ${dir}/data`, `socketPath: ${socketPath}`, `logLevel: info`, `admin: { listen: "127.0.0.1:0" }`, `entries:`, `  - spiffeId: ${FUZZ_SPIFFE_ID}`, `    selectors: ["unix:uid:${process.getuid?.() ?? 0}"]`, ''].join('\n'),
  );
  const agent = await AgentUnderFuzz.start(configFile, dir);
  const started = Date.now();
  let casesRun = 0;
  let connectRefused = 0;
  let fdBaseline = 0;
  let fdAfter = 0;
  let rssBeforeMb: number;
  let rssPeakMb = 0;
  let rssAfterMb = 0;
  let svidVerified = false;
  let crashes = 0;
  let casesMs: number;
  let settleMs = 0;
  try {
    // Warm up (the first SVID is minted, lazily built state exists), then take the baseline.
    const fdsAtStart = fdCount(agent.pid);
    const warm = await verifySvid(socketPath);
    if (warm) throw new Error(`the agent serves no valid SVID before fuzzing: ${warm}`);
    await waitFor(() => fdCount(agent.pid) <= fdsAtStart, 10_000);
    fdBaseline = fdCount(agent.pid);
    rssBeforeMb = rssPeakMb = rssMb(agent.pid);
    log(`fuzz: seed ${seed}, cases ${from}..${from + cases - 1}, concurrency ${concurrency}; agent pid ${agent.pid}: ${fdBaseline} fds, ${rssBeforeMb} MB RSS`);

    const only = process.env.FUZZ_LABELS ? new RegExp(process.env.FUZZ_LABELS) : undefined;
    const held: net.Socket[] = [];
    const inFlight = new Set<number>();
    let next = from;
    let crashedWith: number[] | undefined;
    const worker = async (): Promise<void> => {
      while (next < from + cases && !crashedWith) {
        const index = next++;
        const fuzzCase = makeCase(seed, index);
        // FUZZ_LABELS (a regex over a case's labels) narrows a run while triaging a finding.
        if (only && !only.test(fuzzCase.labels.join(' '))) continue;
        inFlight.add(index);
        const connected = await runCase(socketPath, fuzzCase, held);
        inFlight.delete(index);
        casesRun++;
        if (!connected) connectRefused++;
        if (agent.exited && !crashedWith) crashedWith = [index, ...inFlight];
        if (casesRun % 250 === 0 && !agent.exited) rssPeakMb = Math.max(rssPeakMb, rssMb(agent.pid));
        if (casesRun % 10_000 === 0) log(`  ${casesRun} cases, ${Math.round((Date.now() - started) / 1000)} s: ${fdCount(agent.pid)} fds, ${rssMb(agent.pid)} MB RSS`);
      }
    };
    const casesStarted = Date.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    for (const socket of held.splice(0)) socket.destroy();
    casesMs = Date.now() - casesStarted;
    const settleStarted = Date.now();
    if (crashedWith) {
      crashes = 1;
      const first = Math.min(...crashedWith);
      const last = Math.max(...crashedWith);
      failures.push(`the agent died (${agent.exited}) with cases ${crashedWith.sort((a, b) => a - b).join(', ')} in flight; ${reproduce(first, last - first + 1)}\n${agent.tail()}`);
      for (const index of crashedWith) failures.push(`  case ${index}: ${makeCase(seed, index).labels.join(' ')}`);
    } else {
      // The agent closes what the clients left: at once on FIN, or by its session guard.
      const settled = await waitFor(() => agent.exited !== undefined || fdCount(agent.pid) <= fdBaseline, SETTLE_LIMIT_MS, 100);
      fdAfter = agent.exited ? -1 : fdCount(agent.pid);
      settleMs = Date.now() - settleStarted;
      if (agent.exited) crashes = 1;
      if (!settled || agent.exited) failures.push(`agent fds ${fdAfter} did not return to the baseline ${fdBaseline} within ${SETTLE_LIMIT_MS / 1000} s (${agent.exited ?? 'alive'}); ${reproduce(from, cases)}`);
    }
    if (!agent.exited) {
      rssAfterMb = rssMb(agent.pid);
      rssPeakMb = Math.max(rssPeakMb, rssAfterMb);
      if (rssAfterMb - rssBeforeMb > RSS_GROWTH_LIMIT_MB) failures.push(`agent RSS grew from ${rssBeforeMb} MB to ${rssAfterMb} MB (limit +${RSS_GROWTH_LIMIT_MB} MB); ${reproduce(from, cases)}`);
      const liveStatus = await live(agent.adminAddress);
      if (liveStatus !== 200) failures.push(`/live answered ${liveStatus} after the run`);
      const problem = await verifySvid(socketPath);
      svidVerified = problem === undefined;
      if (problem) failures.push(`after the run: ${problem}; ${reproduce(from, cases)}`);
    }
  } finally {
    const exit = await agent.stop();
    if (!failures.length && exit !== 'exit 0') failures.push(`the agent did not stop cleanly on SIGTERM (${exit})\n${agent.tail()}`);
    await rm(dir, { recursive: true, force: true });
  }
  return { seed, from, casesRun, connectRefused, crashes, fdBaseline, fdAfter, rssBeforeMb, rssPeakMb, rssAfterMb, elapsedMs: Date.now() - started, casesMs, settleMs, svidVerified, failures };
}
