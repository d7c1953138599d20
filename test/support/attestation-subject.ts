import type { AttestationSubject } from '../../src/attestation/attestors/workload-attestor';
import { readConnectorSnapshot } from '../../src/attestation/connector-snapshot';

/**
 * A live process as the socket listener would record it had it connected now: its effective ids,
 * supplementary groups and executable, read from the real /proc.
 */
export function subjectOfProcess(pid: number): AttestationSubject {
  const snapshot = readConnectorSnapshot('/proc', pid);
  if (!snapshot) throw new Error(`process ${pid} is not running`);
  const [uid, gid] = [snapshot.ids.uids[1], snapshot.ids.gids[1]];
  if (uid === undefined || gid === undefined) throw new Error(`process ${pid} has no effective ids`);
  return { pid, uid, gid, supplementaryGids: snapshot.ids.supplementaryGids, executable: snapshot.executable };
}

/** For attestors that look only at the pid (k8s, docker read /proc/<pid>/cgroup of a fixture). */
export function subjectWithPid(pid: number): AttestationSubject {
  return { pid, uid: 0, gid: 0, supplementaryGids: [], executable: undefined };
}
