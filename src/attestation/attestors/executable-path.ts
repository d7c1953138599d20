import { readlinkSync, statSync, type BigIntStats } from 'node:fs';

/** What the kernel appends to /proc/<pid>/exe once the file was unlinked (proc(5)). */
const DELETED_SUFFIX = ' (deleted)';

/**
 * The absolute path the process was executed from, as the process itself sees it (inside its own
 * mount namespace for a containerized process). `exe` is the stat of /proc/<pid>/exe, which
 * follows the link to the running file.
 *
 * A binary replaced by an upgrade keeps running from its unlinked inode, and the link then reads
 * "<path> (deleted)": the path it was started from is still the right selector, so the suffix is
 * dropped. A file really named "... (deleted)" is told apart by still existing, as the same inode,
 * under the process's root.
 */
export function readExecutablePath(procRoot: string, pid: number, exe: BigIntStats): string {
  const link = readlinkSync(`${procRoot}/${pid}/exe`);
  if (!link.endsWith(DELETED_SUFFIX)) return link;
  const named = statOrUndefined(`${procRoot}/${pid}/root${link}`);
  if (named && named.dev === exe.dev && named.ino === exe.ino) return link;
  return link.slice(0, -DELETED_SUFFIX.length);
}

function statOrUndefined(file: string): BigIntStats | undefined {
  try {
    return statSync(file, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined; // unreachable root (EACCES): the name cannot be confirmed, so it is the marker
  }
}
