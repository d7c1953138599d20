import { readFileSync } from 'node:fs';
import { MeshidError } from '../../common/errors';
import { parseCgroupIds, type CgroupIds } from './cgroup-ids';

/** The pod UID and container ID of a pid; errors name the attestor that asked (`k8s`, `docker`). */
export function readCgroupIds(procRoot: string, pid: number, attestor: string): CgroupIds {
  let text: string;
  try {
    // Synchronous, as the other procfs reads: generated in memory (see process-start-time.ts).
    text = readFileSync(`${procRoot}/${pid}/cgroup`, 'utf8');
  } catch (error) {
    throw new MeshidError('ATTESTATION_FAILED', `attestor(${attestor}): cannot read cgroups of pid ${pid}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return parseCgroupIds(text);
  } catch (error) {
    throw new MeshidError('ATTESTATION_FAILED', `attestor(${attestor}): pid ${pid}: ${(error as Error).message}`);
  }
}
