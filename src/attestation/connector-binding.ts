import { MeshidError } from '../common/errors';
import { sameFile, statExecutable } from './connector-snapshot';
import type { PeerIdentity } from './peer-identity';
import { hasTerminated, readProcessStat } from './process-stat';
import { allIdsAre, readProcessIds, type ProcessIds } from './process-status';

/** Why a call was refused although its connection was accepted; a metrics label. */
export type ConnectorRefusal = 'exited' | 'zombie' | 'replaced' | 'credentials_changed' | 'exec';

/** The caller is no longer the process that connected; maps to UNAUTHENTICATED. */
export class ConnectorMismatch extends MeshidError {
  constructor(
    readonly refusal: ConnectorRefusal,
    message: string,
  ) {
    super('PEER_UNVERIFIED', message);
  }
}

/**
 * Checks, at every call, that the process on the other end is still the one the kernel vouched
 * for at connect(2) and in the same state. SO_PEERCRED records the connector's credentials once;
 * a connection outlives them: the connector may exec a setuid binary (its euid becomes 0 while a
 * forked child keeps calling on the shared connection), exec another program, drop privileges, or
 * exit and leave the connection to whoever inherited or was sent it (SCM_RIGHTS). In each case
 * the identity attested at connect no longer describes who calls, so the call is refused:
 *
 * - terminated (pidfd readable, or /proc state Z/X) → exited / zombie;
 * - another start time under the same pid → replaced (pid reuse; a kernel fact with a pidfd);
 * - real, effective, saved or filesystem uid/gid ≠ the connect-time uid/gid → credentials_changed
 *   (a setuid/setgid exec or a privilege change; mixed ids at accept are refused the same way);
 * - /proc/<pid>/exe another inode than at accept → exec.
 *
 * SPIRE's peertracker (pkg/common/peertracker) refuses only exited callers and reused pids; meshid
 * serves root-owned entries on the same socket, so it also binds credentials and executable.
 * The pidfd is checked again after the reads: if the process was alive then, the pid was not
 * reused in between, and every read above described it.
 */
export function verifyConnector(procRoot: string, peer: PeerIdentity): void {
  const { pid, process: atAccept } = peer;
  if (!atAccept) throw new ConnectorMismatch('exited', `connecting process ${pid} had exited before its connection was accepted`);
  refuseIfTerminated(procRoot, peer);
  // Fast path (measured in bench/connector-binding.ts): with a pidfd, "same process, alive" is a
  // kernel fact checked last, and PIDFD_GET_INFO gives the ids in one ioctl. Otherwise /proc.
  const ids = idsFromHandle(peer) ?? idsFromProc(procRoot, peer);
  if (!allIdsAre(ids.uids, peer.uid) || !allIdsAre(ids.gids, peer.gid)) {
    throw new ConnectorMismatch(
      'credentials_changed',
      `connecting process ${pid} no longer runs with the credentials it connected with (uid ${peer.uid} gid ${peer.gid}; now uids ${ids.uids.join('/')} gids ${ids.gids.join('/')}, real/effective/saved/fs): a setuid or setgid exec or a privilege change`,
    );
  }

  if (atAccept.executable) {
    const now = statExecutable(procRoot, pid);
    if (!now || !sameFile(now, atAccept.executable.stats)) {
      throw new ConnectorMismatch('exec', `connecting process ${pid} executed another program after connecting (was ${atAccept.executable.path})`);
    }
  }
  refuseIfTerminated(procRoot, peer);
}

function idsFromHandle(peer: PeerIdentity): ProcessIds | undefined {
  try {
    const ids = peer.handle?.credentials();
    return ids && { ...ids, supplementaryGids: [] };
  } catch {
    throw new ConnectorMismatch('exited', `connecting process ${peer.pid} has exited`);
  }
}

/** Without a pidfd's answer: start time (pid reuse), state (zombie) and ids from /proc. */
function idsFromProc(procRoot: string, peer: PeerIdentity): ProcessIds {
  const { pid, process: atAccept } = peer;
  const stat = readProcessStat(procRoot, pid);
  if (!stat) throw new ConnectorMismatch('exited', `connecting process ${pid} has exited`);
  // Without a start time at accept, a pidfd pins the process (checked before and after the reads).
  if (atAccept?.startTime !== undefined && stat.startTime !== atAccept.startTime) throw new ConnectorMismatch('replaced', `pid ${pid} now names another process than the one that connected`);
  if (hasTerminated(stat.state)) throw new ConnectorMismatch('zombie', `connecting process ${pid} has terminated (state ${stat.state})`);
  const ids = readProcessIds(procRoot, pid);
  if (!ids) throw new ConnectorMismatch('exited', `connecting process ${pid} has exited`);
  return ids;
}

function refuseIfTerminated(procRoot: string, peer: PeerIdentity): void {
  if (!peer.handle?.exited()) return;
  const state = readProcessStat(procRoot, peer.pid);
  // With the pidfd readable, a live /proc entry under this pid is a zombie of ours (pid not yet
  // released) or, after reaping, someone else: either way the connector is gone.
  const startTime = peer.process?.startTime;
  if (state && (startTime === undefined || state.startTime === startTime) && hasTerminated(state.state)) {
    throw new ConnectorMismatch('zombie', `connecting process ${peer.pid} has terminated and is an unreaped zombie`);
  }
  throw new ConnectorMismatch('exited', `connecting process ${peer.pid} has exited`);
}
