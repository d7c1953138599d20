import type { Logger } from 'pino';
import pino from 'pino';
import { AccountNames } from './account-names';
import { BinaryDigests } from './binary-digests';
import type { AttestationSubject, WorkloadAttestor } from './workload-attestor';

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
 * unix:uid / unix:user / unix:gid / unix:group / unix:supplementary_gid, from the credentials the
 * kernel recorded at connect (SO_PEERCRED; SPIRE's unix attestor reads the effective ids of
 * /proc/<pid>/status at call time, which a setuid exec after connect changes). Names come from the
 * host's account files; an id without a name yields only the numeric selector. unix:path and
 * unix:sha256 describe the executable the connector ran at accept.
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
  async attest(subject: AttestationSubject): Promise<readonly string[]> {
    const { uid, gid, supplementaryGids } = subject;
    const user = this.users.nameOf(uid);
    const group = this.groups.nameOf(gid);
    const selectors = [`unix:uid:${uid}`, `unix:gid:${gid}`];
    if (user !== undefined) selectors.push(`unix:user:${user}`);
    if (group !== undefined) selectors.push(`unix:group:${group}`);
    for (const supplementary of supplementaryGids) {
      selectors.push(`unix:supplementary_gid:${supplementary}`);
    }
    selectors.push(...(await this.executableSelectors(subject)));
    return selectors;
  }

  /**
   * From the executable pinned at accept. A missing executable selector is not an attestation
   * failure: the ids above still hold, and an entry that requires unix:path or unix:sha256 simply
   * does not match.
   */
  private async executableSelectors({ pid, executable }: AttestationSubject): Promise<string[]> {
    if (!executable) {
      this.logger.debug({ pid }, 'attestor(unix): executable was unreadable at accept, no unix:path or unix:sha256');
      return [];
    }
    const selectors = [`unix:path:${executable.path}`];
    if (!this.digests || this.options.sha256Wanted?.() === false) return selectors;
    // Opened through /proc/<pid>/exe and compared with the stats pinned at accept: a file other
    // than the one the connector ran is never hashed under its key (binary-digests.ts).
    const digest = await this.digests.sha256(`${this.options.procRoot}/${pid}/exe`, executable.stats);
    if ('sha256' in digest) selectors.push(`unix:sha256:${digest.sha256}`);
    else this.logger.debug({ pid, path: executable.path, reason: digest.skipped }, 'attestor(unix): no unix:sha256');
    return selectors;
  }
}
