import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { peerAvailable, peerPath } from '../../support/peers';

/** One JSON line a peer printed (test/interop/go-peer and py-peer print one object per line). */
export type PeerEvent = Record<string, unknown> & { event: string };

/** Bounds a hung peer so a broken agent fails the test instead of stalling the run. */
const PEER_TIMEOUT_MS = 20_000;

/**
 * The path of an installed peer, or a failure that says how to install it: CI installs every peer
 * (.ci/install-peers), so a missing one is a broken setup, never a reason to skip.
 */
export function requirePeer(name: string): string {
  if (!peerAvailable(name)) {
    throw new Error(`${peerPath(name)} is missing or not executable: run .ci/install-peers (set MESHID_PEERS_DIR if the peers live elsewhere)`);
  }
  return peerPath(name);
}

/**
 * The Python of the peers' venv (MESHID_PEERS_DIR/venv, beside bin/), checked to run py-spiffe
 * under `uid`: a venv whose interpreter lives under a private home (pyenv in /root) cannot be
 * executed by the workload uids, and that must fail here with the reason, not as EACCES later.
 */
export async function requireVenvPython(uid: number): Promise<string> {
  const python = path.join(path.dirname(path.dirname(peerPath('python'))), 'venv', 'bin', 'python');
  try {
    await promisify(execFile)(python, ['-c', 'import spiffe'], { uid, gid: uid, timeout: PEER_TIMEOUT_MS });
  } catch (error) {
    let target = python;
    try {
      target = realpathSync(python);
    } catch {
      // missing: reported below
    }
    throw new Error(`uid ${uid} cannot run py-spiffe with ${python} (→ ${target}): ${(error as Error).message.split('\n')[0]}. Run .ci/install-peers; the venv must be made from an interpreter every uid can execute (e.g. /usr/bin/python3 -m venv)`, { cause: error });
  }
  return python;
}

/** The environment a workload gets from its operator: only the agent's address, as SPIFFE libraries read it. */
export function workloadEnv(socketPath: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', SPIFFE_ENDPOINT_SOCKET: `unix://${socketPath}` };
}

/** A peer process under `uid` (gid = uid) whose stdout lines are collected as events. */
export class PeerProcess {
  readonly events: PeerEvent[] = [];
  private stderr = '';
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;

  constructor(uid: number, file: string, args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(file, args, { uid, gid: uid, env, stdio: ['ignore', 'pipe', 'pipe'] });
    // 'close', not 'exit': by then stdout has been read to the end.
    this.exited = once(this.child, 'close').then(([code]) => code as number | null);
    let partial = '';
    this.child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) this.events.push(parseEvent(line));
    });
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-4_000)));
  }

  /** Waits until some event satisfies `predicate` (bounded; the bound is never what a test asserts). */
  async waitFor(predicate: (events: PeerEvent[]) => boolean, what: string, limitMs = PEER_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + limitMs;
    let exitCode: number | null | undefined;
    void this.exited.then((code) => (exitCode = code));
    while (!predicate(this.events)) {
      if (exitCode !== undefined || Date.now() > deadline) throw new Error(`${exitCode !== undefined ? `peer exited (${exitCode})` : 'gave up'} waiting for ${what}\n${this.describe()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** What the peer printed, for failure messages. */
  describe(): string {
    return `events:\n${this.events.slice(-20).map((event) => JSON.stringify(event)).join('\n')}\nstderr:\n${this.stderr}`;
  }

  /** SIGTERM, then the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  /** Runs to completion (bounded) and returns the exit code. */
  async finish(limitMs = PEER_TIMEOUT_MS): Promise<number | null> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), limitMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

function parseEvent(line: string): PeerEvent {
  try {
    return JSON.parse(line) as PeerEvent;
  } catch {
    return { event: 'unparsed', line };
  }
}

/** Runs a one-shot peer mode and returns its exit code and events. */
export async function runPeer(uid: number, file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; events: PeerEvent[]; describe: () => string }> {
  const peer = new PeerProcess(uid, file, args, env);
  const code = await peer.finish();
  return { code, events: peer.events, describe: () => peer.describe() };
}
