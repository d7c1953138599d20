import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { FileTargetConfig } from './file-target-config';
import { derToPem } from '../identity/pem';
import { Backoff } from '../common/backoff';
import type { Clock, Timer } from '../common/clock';
import type { StoreChange } from '../rotation/svid-store';
import type { SvidSource } from '../serving/svid-source';
import type { X509Svid } from '../rotation/x509-svid';
import { buildPkcs12 } from './pkcs12';
import type { RegistrationEntry } from '../entries/entries';
import { removeStale, writeAtomicSet, writeSingleFile, type SetFile } from './atomic-dir-writer';
import { TargetDirectory } from './target-directory';
import { pkcs12InSet, targetDirectory } from './file-target-layout';

export interface FileTargetOptions {
  readonly target: FileTargetConfig;
  readonly store: SvidSource;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random?: () => number;
  readonly onWrite?: (result: 'success' | 'failure') => void;
  /** Extra files of the set (a test seam: a throw stands for a disk that fills up mid-write). */
  readonly extraFiles?: readonly ((svid: X509Svid, bundlePem: string) => Promise<SetFile | undefined>)[];
  /** How long one afterWrite run may take before its process group is killed. */
  readonly afterWriteTimeoutMs?: number;
}

/** How long an afterWrite command may run before it is killed (a hung reload must not pile up). */
const AFTER_WRITE_TIMEOUT_MS = 30_000;
const OUTPUT_LIMIT = 2_000;

/** The uids that may own a target's directory and the directories above it. */
export function trustedUids(target: FileTargetConfig): ReadonlySet<number> {
  const uids = new Set([0]);
  if (process.getuid) uids.add(process.getuid());
  if (target.owner) uids.add(target.owner.uid);
  return uids;
}

/**
 * One `files:` target: the SVID of a configured SPIFFE ID as PEM files for software that only
 * reads files (nginx), rewritten on every rotation and bundle change. Each write is a new set
 * (chain, key, bundle, keystore) switched in by one `..data` symlink rename
 * (atomic-dir-writer.ts), so the documented paths never name a key and a chain of different
 * SVIDs, not even after a kill. A failed write keeps the previous set and is retried with
 * backoff. afterWrite runs after a write, off the write path: asynchronously, one run at a time
 * per target, a run queued while one is going coalescing every later write into one more run.
 */
export class FileTarget {
  private readonly entry: RegistrationEntry;
  private readonly backoff: Backoff;
  private retryTimer: Timer | undefined;
  private writing: Promise<void> = Promise.resolve();
  private hooks: Promise<void> = Promise.resolve();
  private hookQueued = false;
  private hookProcess: ChildProcess | undefined;
  private lastWritten = '';
  private stopped = false;
  private unsubscribe: () => void = () => undefined;

  constructor(private readonly options: FileTargetOptions) {
    const { target } = options;
    // The config is the admin's word: a target names its ID directly, no attestation involved.
    this.entry = { spiffeId: target.spiffeId, selectors: [], dnsNames: target.dnsNames };
    this.backoff = new Backoff(1_000, 60_000, options.random);
  }

  get spiffeId(): string {
    return this.entry.spiffeId;
  }

  /**
   * Checks the target's directories (creating what is missing) and removes what an interrupted
   * write left there. Throws INVALID_CONFIG for a directory others could tamper with.
   */
  async prepare(): Promise<void> {
    const { target, logger } = this.options;
    for (const [dirPath, names] of this.directories()) {
      const dir = await TargetDirectory.open(dirPath, trustedUids(target));
      try {
        const removed = await removeStale(dir, names);
        if (removed.length > 0) logger.warn({ spiffeId: target.spiffeId, directory: dirPath, removed }, 'removed what an interrupted certificate-file write left behind');
      } finally {
        await dir.close();
      }
    }
  }

  /** Writes the files once; a failure (directory not writable yet) is logged and retried. Does not wait for afterWrite. */
  async start(): Promise<void> {
    this.unsubscribe = this.options.store.subscribe((change) => this.onChange(change));
    this.schedule();
    await this.writing;
  }

  /** Stops writing; an afterWrite command still running is ended (SIGTERM to its process group). */
  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    this.retryTimer?.cancel();
    killGroup(this.hookProcess, 'SIGTERM');
  }

  /** Resolves when every write started so far, and the afterWrite runs they queued, have finished (tests, shutdown). */
  async settled(): Promise<void> {
    await this.writing;
    await this.hooks;
  }

  /** The target's directories and the file names each holds (pkcs12File may be elsewhere). */
  private directories(): Map<string, string[]> {
    const { target } = this.options;
    const setNames = [target.certFile, target.keyFile, target.bundleFile, pkcs12InSet(target) ? target.pkcs12File : undefined].filter((file) => file !== undefined).map((file) => path.basename(file));
    const dirs = new Map([[targetDirectory(target), setNames]]);
    if (target.pkcs12File !== undefined && !pkcs12InSet(target)) dirs.set(path.dirname(target.pkcs12File), [path.basename(target.pkcs12File)]);
    return dirs;
  }

  private onChange(change: StoreChange): void {
    if (change.kind === 'bundle' || change.spiffeId === this.entry.spiffeId) this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.writing = this.writing.then(() => this.write()).catch((error: unknown) => this.retryLater(error));
  }

  private retryLater(error: unknown): void {
    const delay = this.backoff.nextDelayMs();
    this.options.onWrite?.('failure');
    this.options.logger.error({ err: error, spiffeId: this.entry.spiffeId, certFile: this.options.target.certFile, retryInMs: Math.round(delay) }, 'writing certificate files failed; previous files kept');
    this.retryTimer?.cancel();
    this.retryTimer = this.options.clock.setTimer(delay, () => this.schedule());
  }

  private async write(): Promise<void> {
    if (this.stopped) return;
    const { store, target, logger, clock } = this.options;
    const svid = await store.get(this.entry);
    const bundle = store.bundle;
    const fingerprint = `${svid.serialHex}/${bundle.version}`;
    if (fingerprint === this.lastWritten) return;

    const bundlePem = bundle.rootsDer.map((der) => derToPem('CERTIFICATE', der)).join('');
    const owner = target.owner;
    const set: SetFile[] = [
      { name: path.basename(target.keyFile), data: derToPem('PRIVATE KEY', svid.privateKeyPkcs8Der), mode: target.keyMode },
      { name: path.basename(target.certFile), data: svid.chainDer.map((der) => derToPem('CERTIFICATE', der)).join(''), mode: 0o644 },
    ];
    if (target.bundleFile !== undefined) set.push({ name: path.basename(target.bundleFile), data: bundlePem, mode: 0o644 });
    let keystore: SetFile | undefined;
    if (target.pkcs12File !== undefined && target.pkcs12PasswordFile !== undefined) {
      // Read each time: an operator may rotate the password file without touching meshid.
      const password = (await readFile(target.pkcs12PasswordFile, 'utf8')).replace(/\r?\n$/, '');
      keystore = { name: path.basename(target.pkcs12File), data: buildPkcs12({ chainDer: svid.chainDer, privateKeyPkcs8Der: svid.privateKeyPkcs8Der, password, friendlyName: 'svid' }), mode: target.keyMode };
      if (pkcs12InSet(target)) set.push(keystore);
    }
    for (const extra of this.options.extraFiles ?? []) {
      const file = await extra(svid, bundlePem);
      if (file) set.push(file);
    }

    const dir = await TargetDirectory.open(targetDirectory(target), trustedUids(target));
    try {
      await writeAtomicSet(dir, set, { now: new Date(clock.now()), ...(owner ? { owner } : {}) });
    } finally {
      await dir.close();
    }
    if (keystore !== undefined && target.pkcs12File !== undefined && !pkcs12InSet(target)) {
      const keystoreDir = await TargetDirectory.open(path.dirname(target.pkcs12File), trustedUids(target));
      try {
        await writeSingleFile(keystoreDir, keystore, owner);
      } finally {
        await keystoreDir.close();
      }
    }
    this.lastWritten = fingerprint;
    this.backoff.reset();
    this.options.onWrite?.('success');
    logger.info({ spiffeId: svid.spiffeId, serial: svid.serialHex, notAfter: new Date(svid.notAfterMs).toISOString(), certFile: target.certFile }, 'certificate files written');
    if (target.afterWrite !== undefined) this.queueAfterWrite(target.afterWrite);
  }

  /** One run at a time; writes landing while a run is queued share that run (it sees the newest files). */
  private queueAfterWrite(command: string): void {
    if (this.hookQueued) return;
    this.hookQueued = true;
    this.hooks = this.hooks.then(() => {
      this.hookQueued = false;
      return this.stopped ? undefined : this.runAfterWrite(command);
    });
  }

  /** The command's failure is logged, not retried: the files themselves are in place. */
  private runAfterWrite(command: string): Promise<void> {
    const { logger, target } = this.options;
    const timeoutMs = this.options.afterWriteTimeoutMs ?? AFTER_WRITE_TIMEOUT_MS;
    return new Promise((resolve) => {
      // Its own process group, so a timeout ends the whole command, not only the shell.
      const child = spawn('sh', ['-c', command], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      this.hookProcess = child;
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout = (stdout + chunk.toString()).slice(0, OUTPUT_LIMIT)));
      child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(0, OUTPUT_LIMIT)));
      let timedOut = false;
      // A real timer: the command runs in real time whatever clock the agent's logic uses.
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child, 'SIGKILL');
      }, timeoutMs);
      let done = false;
      const finish = (exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.hookProcess = undefined;
        const log = { spiffeId: target.spiffeId, command, exitCode, signal: signal ?? undefined, timedOutAfterMs: timedOut ? timeoutMs : undefined, err: spawnError, stderr: stderr.trim() || undefined, stdout: stdout.trim() || undefined };
        if (exitCode === 0) logger.info(log, 'afterWrite command succeeded');
        else logger.error(log, 'afterWrite command failed');
        resolve();
      };
      child.once('error', (error) => finish(null, null, error));
      child.once('close', (code, signal) => finish(code, signal));
    });
  }
}

function killGroup(child: ChildProcess | undefined, signal: NodeJS.Signals): void {
  if (child?.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}
