import { statSync, type BigIntStats } from 'node:fs';
import { readExecutablePath } from './attestors/executable-path';
import { readProcessStat } from './process-stat';
import { readProcessIds, type ProcessIds } from './process-status';

/** The file a process runs, pinned by inode: an exec replaces it, a rename does not. */
export interface ExecutableIdentity {
  /** The path it was executed from, as read at accept (executable-path.ts). */
  readonly path: string;
  /** stat of /proc/<pid>/exe at accept: dev + ino name the file; mtime + size its version. */
  readonly stats: BigIntStats;
}

/** What /proc said about the connecting process when its connection was accepted. */
export interface ConnectorSnapshot {
  /**
   * /proc/<pid>/stat at accept; undefined when a pidfd pins the connector: "still the same
   * process" is then the kernel's answer at every call (connector-binding.ts), and skipping the
   * read takes a third of the /proc reads off each accept (bench/connect-burst.ts).
   */
  readonly startTime: bigint | undefined;
  readonly state: string | undefined;
  readonly ids: ProcessIds;
  /**
   * Undefined when /proc/<pid>/exe cannot be read by this agent (an unprivileged agent and a
   * process of another uid: proc(5) ptrace access mode). Such a connection never gets unix:path or
   * unix:sha256 selectors, so an exec cannot lend it a binary's identity.
   */
  readonly executable: ExecutableIdentity | undefined;
}

/**
 * Reads the snapshot at accept; undefined when the process is already gone. `pinned`: a pidfd
 * on the connector is held, so the start time is not read.
 */
export function readConnectorSnapshot(procRoot: string, pid: number, pinned = false): ConnectorSnapshot | undefined {
  const stat = pinned ? undefined : readProcessStat(procRoot, pid);
  if (!pinned && !stat) return undefined;
  const ids = readProcessIds(procRoot, pid);
  if (!ids) return undefined;
  return { startTime: stat?.startTime, state: stat?.state, ids, executable: readExecutable(procRoot, pid) };
}

function readExecutable(procRoot: string, pid: number): ExecutableIdentity | undefined {
  try {
    // stat follows the link to the running file, wherever it lives (even deleted, or in a
    // container's mount namespace).
    const stats = statSync(`${procRoot}/${pid}/exe`, { bigint: true });
    return { path: readExecutablePath(procRoot, pid, stats), stats };
  } catch {
    return undefined;
  }
}

/** stat of /proc/<pid>/exe now, or undefined when unreadable or gone. */
export function statExecutable(procRoot: string, pid: number): BigIntStats | undefined {
  try {
    return statSync(`${procRoot}/${pid}/exe`, { bigint: true });
  } catch {
    return undefined;
  }
}

export function sameFile(a: BigIntStats, b: BigIntStats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}
