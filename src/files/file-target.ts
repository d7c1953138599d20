import { exec } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { derToPem } from '../identity/pem';
import { Backoff } from '../rotation/backoff';
import type { Clock, Timer } from '../rotation/clock';
import type { StoreChange, SvidStore } from '../rotation/svid-store';
import type { X509Svid } from '../rotation/x509-svid';
import { stageFile, type StagedFile } from '../upstream/atomic-file';
import { buildPkcs12 } from './pkcs12';
import type { RegistrationEntry } from '../workload/entries';

/** What one `files:` target writes, and where (absolute paths). */
export interface FileTargetSpec {
  readonly spiffeId: string;
  readonly dnsNames: readonly string[];
  readonly certFile: string;
  readonly keyFile: string;
  readonly bundleFile?: string;
  /** Permission bits of keyFile (and pkcs12File), e.g. 0o600. */
  readonly keyMode: number;
  readonly owner?: { readonly uid: number; readonly gid: number };
  /** A PKCS#12 keystore of the same key and chain (Java), protected by the password in the file. */
  readonly pkcs12File?: string;
  readonly pkcs12PasswordFile?: string;
  /** A shell command run after every write (e.g. `nginx -s reload`). */
  readonly afterWrite?: string;
}

export interface FileTargetOptions {
  readonly target: FileTargetSpec;
  readonly store: SvidStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random?: () => number;
  readonly onWrite?: (result: 'success' | 'failure') => void;
  /** Extra files a target writes (PKCS#12), staged with the PEM files and committed with them. */
  readonly extraFiles?: readonly ((svid: X509Svid, bundlePem: string) => Promise<StagedFile>)[];
}

/** How long an afterWrite command may run before it is killed (a hung reload must not pile up). */
const AFTER_WRITE_TIMEOUT_MS = 30_000;

/**
 * One `files:` target: the SVID of a configured SPIFFE ID as PEM files for software that only
 * reads files (nginx), rewritten on every rotation and bundle change. Each file is replaced
 * atomically, bundle then key then certificate chain, and only then is afterWrite run, so a
 * reload never sees a key without its certificate. A failed write keeps the previous files and
 * is retried with backoff.
 */
export class FileTarget {
  private readonly entry: RegistrationEntry;
  private readonly backoff: Backoff;
  private retryTimer: Timer | undefined;
  private writing: Promise<void> = Promise.resolve();
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

  /** Writes the files once; a failure (directory not writable yet) is logged and retried. */
  async start(): Promise<void> {
    this.unsubscribe = this.options.store.subscribe((change) => this.onChange(change));
    this.schedule();
    await this.writing;
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    this.retryTimer?.cancel();
  }

  /** Resolves when every write started so far has finished (tests, shutdown). */
  settled(): Promise<void> {
    return this.writing;
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
    const { store, target, logger } = this.options;
    const svid = await store.get(this.entry);
    const bundle = store.bundle;
    const fingerprint = `${svid.serialHex}/${bundle.version}`;
    if (fingerprint === this.lastWritten) return;

    const bundlePem = bundle.rootsDer.map((der) => derToPem('CERTIFICATE', der)).join('');
    const owner = target.owner;
    await Promise.all([...new Set([target.certFile, target.keyFile, target.bundleFile, target.pkcs12File].filter((file) => file !== undefined).map((file) => path.dirname(file)))].map((dir) => mkdir(dir, { recursive: true })));
    // Stage every file, then rename them all: running out of space half-way leaves the old set.
    const staged: StagedFile[] = [];
    try {
      if (target.bundleFile !== undefined) staged.push(await stageFile(target.bundleFile, bundlePem, 0o644, owner));
      staged.push(await stageFile(target.keyFile, derToPem('PRIVATE KEY', svid.privateKeyPkcs8Der), target.keyMode, owner));
      staged.push(await stageFile(target.certFile, svid.chainDer.map((der) => derToPem('CERTIFICATE', der)).join(''), 0o644, owner));
      if (target.pkcs12File !== undefined && target.pkcs12PasswordFile !== undefined) {
        // Read each time: an operator may rotate the password file without touching meshid.
        const password = (await readFile(target.pkcs12PasswordFile, 'utf8')).replace(/\r?\n$/, '');
        const keystore = buildPkcs12({ chainDer: svid.chainDer, privateKeyPkcs8Der: svid.privateKeyPkcs8Der, password, friendlyName: 'svid' });
        staged.push(await stageFile(target.pkcs12File, keystore, target.keyMode, owner));
      }
      for (const stageExtra of this.options.extraFiles ?? []) staged.push(await stageExtra(svid, bundlePem));
    } catch (error) {
      await Promise.all(staged.map((file) => file.discard()));
      throw error;
    }
    for (const file of staged) await file.commit();
    this.lastWritten = fingerprint;
    this.backoff.reset();
    this.options.onWrite?.('success');
    logger.info({ spiffeId: svid.spiffeId, serial: svid.serialHex, notAfter: new Date(svid.notAfterMs).toISOString(), certFile: target.certFile }, 'certificate files written');
    if (target.afterWrite !== undefined) await this.runAfterWrite(target.afterWrite);
  }

  /** The command's failure is logged, not retried: the files themselves are in place. */
  private runAfterWrite(command: string): Promise<void> {
    const { logger } = this.options;
    return new Promise((resolve) => {
      exec(command, { timeout: AFTER_WRITE_TIMEOUT_MS }, (error, stdout, stderr) => {
        const exitCode = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        const log = { command, exitCode, stderr: stderr.trim().slice(0, 2_000) || undefined, stdout: stdout.trim().slice(0, 2_000) || undefined };
        if (exitCode === 0) logger.info(log, 'afterWrite command succeeded');
        else logger.error(log, 'afterWrite command failed');
        resolve();
      });
    });
  }
}
