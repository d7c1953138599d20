import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import type { FaultPointName } from '../../src/common/fault-point';
import { MESHID_MAIN } from './meshid-cli';
import { derCertificatesToPem, pemBlocks } from './pem';
import { securityHeader, workloadClient, type X509SvidResponse } from './workload-client';

export interface AgentExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

/** One `meshid run` process (the compiled CLI, MESHID_MAIN), optionally armed with a fault point. */
export class AgentProcess {
  readonly exited: Promise<AgentExit>;
  /** Resolves once the agent logged its socket path (it serves); rejects if it exits first. */
  readonly serving: Promise<void>;
  private output = '';

  private constructor(readonly child: ChildProcess, socketPath: string) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, output: this.output })));
    this.serving = new Promise((resolve, reject) => {
      let pending = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        this.output += chunk.toString();
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        if (lines.some((line) => line.startsWith('{') && line.includes(socketPath))) resolve();
      });
      child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
      void this.exited.then((exit) => reject(new Error(`agent exited (${exit.code ?? exit.signal}) before serving:\n${exit.output}`)));
    });
    this.serving.catch(() => undefined);
  }

  static start(configFile: string, socketPath: string, options: { faultPoint?: FaultPointName | `${FaultPointName}@${number}` } = {}): AgentProcess {
    const env = { ...process.env };
    delete env.MESHID_FAULT_POINT;
    if (options.faultPoint) env.MESHID_FAULT_POINT = options.faultPoint;
    const child = spawn(process.execPath, [MESHID_MAIN, 'run', '--config', configFile], { cwd: path.dirname(configFile), env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    child.once('exit', () => running.delete(child));
    return new AgentProcess(child, socketPath);
  }

  /** Resolves once the process is gone; SIGTERM (graceful) unless told otherwise. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<AgentExit> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

const running = new Set<ChildProcess>();

/** SIGKILLs every agent process still running; for an `after` hook. */
export async function killAgentProcesses(): Promise<void> {
  await Promise.all(
    [...running].map(async (child) => {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }),
  );
}

/** Whether the process died at the named fault point (and not of anything else). */
export function diedAt(exit: AgentExit, point: string): boolean {
  return exit.signal === 'SIGKILL' && exit.output.includes(`fault point ${point.replace(/@\d+$/, '')} reached`);
}

/** A loopback port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Writes a config for one agent in `dir` whose single entry matches this test's uid. */
export async function writeAgentConfig(dir: string, options: { adminPort: number; svidTtl?: string; extra?: string }): Promise<{ configFile: string; socketPath: string; dataDir: string }> {
  const configFile = path.join(dir, 'meshid.yaml');
  const socketPath = path.join(dir, 'agent.sock');
  const dataDir = path.join(dir, 'data');
  await writeFile(
    configFile,
    [
      'trustDomain: example.org',
      `dataDir: ${dataDir}`,
      `socketPath: ${socketPath}`,
      `admin:\n  listen: 127.0.0.1:${options.adminPort}`,
      'ca:\n  rotationPropagationDelay: 1s',
      `svid:\n  ttl: ${options.svidTtl ?? '1h'}`,
      `entries:\n  - spiffeId: spiffe://example.org/crash\n    selectors: ['unix:uid:${process.getuid?.() ?? 0}']`,
      options.extra ?? '',
    ].join('\n'),
  );
  return { configFile, socketPath, dataDir };
}

/** An X.509-SVID as served: chain (leaf first) and the bundle it came with. */
export interface ServedSvid {
  readonly chain: X509Certificate[];
  readonly bundle: X509Certificate[];
}

/** Holds a FetchX509SVID stream open and keeps every SVID it was sent. */
export class SvidCollector {
  readonly received: ServedSvid[] = [];
  private readonly client: ReturnType<typeof workloadClient>;
  private readonly call: ReturnType<ReturnType<typeof workloadClient>['FetchX509SVID']>;

  constructor(socketPath: string) {
    this.client = workloadClient(socketPath);
    this.call = this.client.FetchX509SVID({}, securityHeader());
    this.call.on('data', (response: X509SvidResponse) => {
      for (const svid of response.svids) this.received.push({ chain: certificates(svid.x509_svid), bundle: certificates(svid.bundle) });
    });
    this.call.on('error', () => undefined); // the agent is killed under it
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

/** The first SVID an agent serves now, with its bundle. */
export async function fetchSvid(socketPath: string): Promise<ServedSvid> {
  const collector = new SvidCollector(socketPath);
  try {
    const deadline = Date.now() + 10_000;
    while (collector.received.length === 0) {
      if (Date.now() > deadline) throw new Error('no X.509-SVID served within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return collector.received[0] as ServedSvid;
  } finally {
    collector.close();
  }
}

/** Whether leaf → intermediate(s) → a root of `bundle` verifies, signature by signature. */
export function verifiesAgainst(chain: readonly X509Certificate[], bundle: readonly X509Certificate[]): boolean {
  for (let index = 0; index + 1 < chain.length; index++) {
    const child = chain[index] as X509Certificate;
    const parent = chain[index + 1] as X509Certificate;
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) return false;
  }
  const top = chain[chain.length - 1];
  return top !== undefined && bundle.some((root) => top.checkIssued(root) && top.verify(root.publicKey));
}

function certificates(concatenatedDer: Buffer): X509Certificate[] {
  return pemBlocks(derCertificatesToPem(concatenatedDer)).map((pem) => new X509Certificate(pem));
}
