import { readFileSync } from 'node:fs';
import { MeshidError } from '../../errors';
import { AccountNames } from './account-names';
import type { WorkloadAttestor } from './workload-attestor';

export interface UnixAttestorOptions {
  readonly procRoot: string;
  readonly passwdFile?: string;
  readonly groupFile?: string;
}

/**
 * unix:uid / unix:user / unix:gid / unix:group / unix:supplementary_gid, from the effective ids
 * in /proc/<pid>/status (as SPIRE's unix attestor does). Names come from the host's account
 * files; an id without a name yields only the numeric selector.
 */
export class UnixAttestor implements WorkloadAttestor {
  readonly name = 'unix';
  private readonly users: AccountNames;
  private readonly groups: AccountNames;

  constructor(private readonly options: UnixAttestorOptions) {
    this.users = new AccountNames(options.passwdFile ?? '/etc/passwd');
    this.groups = new AccountNames(options.groupFile ?? '/etc/group');
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
