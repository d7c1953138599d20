import { readFileSync, statSync, type BigIntStats } from 'node:fs';
import type { Logger } from 'pino';
import pino from 'pino';
import { MeshidError } from '../../errors';
import { AccountNames } from './account-names';
import { BinaryDigests } from './binary-digests';
import { readExecutablePath } from './executable-path';
import type { WorkloadAttestor } from './workload-attestor';

export interface UnixAttestorOptions {
  readonly procRoot: string;
  readonly passwdFile?: string;
  readonly groupFile?: string;
  /** Emit unix:sha256 of the executable (default true). unix:path is always emitted. */
  readonly hashBinaries?: boolean;
  /** Executables larger than this get no unix:sha256 (default 256 MiB). */
  readonly maxHashBytes?: number;
  /** Why a path or digest selector is missing is logged at debug level. */
  readonly logger?: Logger;
  /**
   * Whether any registration entry could use unix:sha256 now. Hashing a new binary costs ~1 ms
   * per MB on the caller's first-SVID path, so it is skipped while nothing would match on it.
   */
  readonly sha256Wanted?: () => boolean;
  /** Called each time an executable is actually read and hashed (not served from the cache). */
  readonly onBinaryHashed?: (bytes: number) => void;
}

export const DEFAULT_MAX_HASH_BYTES = 256 * 1024 * 1024;

/**
 * unix:uid / unix:user / unix:gid / unix:group / unix:supplementary_gid, from the effective ids
 * in /proc/<pid>/status (as SPIRE's unix attestor does). Names come from the host's account
 * files; an id without a name yields only the numeric selector. unix:path and unix:sha256 describe
 * the executable the process runs, read through /proc/<pid>/exe.
 */
export class UnixAttestor implements WorkloadAttestor {
  readonly name = 'unix';
  private readonly users: AccountNames;
  private readonly groups: AccountNames;
  private readonly digests: BinaryDigests | undefined;
  private readonly logger: Logger;

  constructor(private readonly options: UnixAttestorOptions) {
    this.users = new AccountNames(options.passwdFile ?? '/etc/passwd');
    this.groups = new AccountNames(options.groupFile ?? '/etc/group');
    this.logger = options.logger ?? pino({ level: 'silent' });
    if (options.hashBinaries ?? true) {
      this.digests = new BinaryDigests({ maxHashBytes: options.maxHashBytes ?? DEFAULT_MAX_HASH_BYTES, onHash: options.onBinaryHashed });
    }
  }

  // async so that a failure reaches the resolver as a rejection, like every attestor's.
  async attest(pid: number): Promise<readonly string[]> {
    let status: string;
    try {
      // Synchronous: procfs is in memory (see process-start-time.ts for the measurement).
      status = readFileSync(`${this.options.procRoot}/${pid}/status`, 'utf8');
    } catch (error) {
      throw new MeshidError('ATTESTATION_FAILED', `attestor(unix): cannot read status of pid ${pid}: ${(error as Error).message}`);
    }
    const ids = parseStatusIds(status);
    if (!ids) throw new MeshidError('ATTESTATION_FAILED', `attestor(unix): no Uid/Gid lines in status of pid ${pid}`);

    const user = this.users.nameOf(ids.uid);
    const group = this.groups.nameOf(ids.gid);
    const selectors = [`unix:uid:${ids.uid}`, `unix:gid:${ids.gid}`];
    if (user !== undefined) selectors.push(`unix:user:${user}`);
    if (group !== undefined) selectors.push(`unix:group:${group}`);
    for (const supplementary of ids.supplementary) {
      selectors.push(`unix:supplementary_gid:${supplementary}`);
    }
    selectors.push(...(await this.executableSelectors(pid)));
    return selectors;
  }

  /**
   * A missing executable selector is not an attestation failure: the ids above still hold, and an
   * entry that requires unix:path or unix:sha256 simply does not match.
   */
  private async executableSelectors(pid: number): Promise<string[]> {
    const exe = `${this.options.procRoot}/${pid}/exe`;
    let executablePath: string;
    let stats: BigIntStats;
    try {
      // stat follows the link to the running file, wherever it lives (even deleted, or in a
      // container's mount namespace); it is an inode lookup, cheap enough to stay synchronous.
      stats = statSync(exe, { bigint: true });
      executablePath = readExecutablePath(this.options.procRoot, pid, stats);
    } catch (error) {
      this.logger.debug({ pid, reason: (error as NodeJS.ErrnoException).code ?? String(error) }, 'attestor(unix): executable unreadable, no unix:path or unix:sha256');
      return [];
    }
    const selectors = [`unix:path:${executablePath}`];
    if (!this.digests || this.options.sha256Wanted?.() === false) return selectors;
    const digest = await this.digests.sha256(exe, stats);
    if ('sha256' in digest) selectors.push(`unix:sha256:${digest.sha256}`);
    else this.logger.debug({ pid, path: executablePath, reason: digest.skipped }, 'attestor(unix): no unix:sha256');
    return selectors;
  }
}

interface StatusIds {
  uid: number;
  gid: number;
  supplementary: number[];
}

/** `Uid:\treal\teffective\tsaved\tfs`; the effective id is what the kernel checks access with. */
export function parseStatusIds(status: string): StatusIds | undefined {
  let uid: number | undefined;
  let gid: number | undefined;
  let supplementary: number[] = [];
  for (const line of status.split('\n')) {
    if (line.startsWith('Uid:')) uid = Number(line.slice(4).trim().split(/\s+/)[1]);
    else if (line.startsWith('Gid:')) gid = Number(line.slice(4).trim().split(/\s+/)[1]);
    else if (line.startsWith('Groups:')) {
      supplementary = line.slice(7).trim().split(/\s+/).filter(Boolean).map(Number);
    }
  }
  if (uid === undefined || gid === undefined || Number.isNaN(uid) || Number.isNaN(gid)) return undefined;
  return { uid, gid, supplementary };
}
