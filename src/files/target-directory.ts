import { constants, existsSync } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, realpath, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { MeshidError } from '../common/errors';

/**
 * A files target's directory, checked the way ssh's StrictModes checks ~/.ssh and then held
 * open. Every later operation names its file through `/proc/self/fd/<fd>/<name>`, so it lands in
 * the directory that was checked even if someone renames that directory or swaps a symlink
 * into its path afterwards (Node has no openat/renameat; the magic link is their equivalent).
 * Without /proc (not Linux) the checked path is used as is.
 */
export class TargetDirectory {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly base: string,
  ) {}

  /**
   * Opens `dir`, creating what is missing of it (0755), after checking that no one but
   * `trustedUids` can change what it names:
   * - every directory on the way, the symlinks resolved, is owned by a trusted uid and not
   *   writable by group or others, unless sticky (a sticky /tmp lets no one rename our entries);
   * - every symlink on the way is owned by a trusted uid (an attacker's symlink is refused);
   * - the directory itself is owned by a trusted uid and not writable by group or others, no
   *   sticky exception.
   * The errors are INVALID_CONFIG naming the path and what to chmod or chown.
   */
  static async open(dir: string, trustedUids: ReadonlySet<number>): Promise<TargetDirectory> {
    const absolute = path.resolve(dir);
    await checkAncestors(absolute, trustedUids);
    await createMissing(absolute);
    // The symlinks are now known to be trusted ones; check what the path resolves to.
    const real = await realpath(absolute);
    await checkAncestors(real, trustedUids);
    let handle: FileHandle;
    try {
      handle = await open(real, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    } catch (error) {
      throw new MeshidError('INVALID_CONFIG', `files target directory ${absolute}: cannot open it (${(error as Error).message})`, { cause: error });
    }
    try {
      const stats = await handle.stat();
      const problem = directoryProblem(stats, trustedUids, false);
      if (problem) throw unsafe(absolute, problem);
    } catch (error) {
      await handle.close();
      throw error;
    }
    const base = existsSync(`/proc/self/fd/${handle.fd}`) ? `/proc/self/fd/${handle.fd}` : real;
    return new TargetDirectory(absolute, handle, base);
  }

  /** The path naming `name` inside the checked directory (no `/`, no `..` traversal). */
  at(name: string): string {
    if (name.includes('/') || name === '.' || name === '..') throw new Error(`not a plain file name: ${name}`);
    return `${this.base}/${name}`;
  }

  /** The names in the directory. */
  list(): Promise<string[]> {
    return readdir(this.base);
  }

  /** Syncs the directory itself, so renames and links in it survive a crash. */
  async sync(): Promise<void> {
    try {
      await this.handle.sync();
    } catch {
      // Some file systems refuse fsync on a directory; the files themselves are synced.
    }
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

interface ModeAndOwner {
  readonly mode: number;
  readonly uid: number;
}

/** What is wrong with a directory (`it` or `its parent <path>`), saying what to run; undefined if fine. */
function directoryProblem(stats: ModeAndOwner, trustedUids: ReadonlySet<number>, allowSticky: boolean, subject = 'it'): string | undefined {
  const object = subject === 'it' ? 'it' : subject.replace(/^its parent /, '');
  if (!trustedUids.has(stats.uid)) return `${subject} is owned by uid ${stats.uid}, not by root, meshid's uid or the target's owner; chown ${object}`;
  const writableBy = [(stats.mode & 0o020) !== 0 ? 'group' : '', (stats.mode & 0o002) !== 0 ? 'others' : ''].filter((who) => who !== '');
  if (writableBy.length > 0 && !(allowSticky && (stats.mode & 0o1000) !== 0)) {
    return `${subject} is writable by ${writableBy.join(' and ')} (mode ${(stats.mode & 0o7777).toString(8).padStart(4, '0')}); chmod go-w ${object}`;
  }
  return undefined;
}

function unsafe(where: string, problem: string): MeshidError {
  return new MeshidError('INVALID_CONFIG', `files target directory ${where} is not safe to write keys into: ${problem}`);
}

/** Each existing prefix of `absolute`: symlinks trusted, directories safe (the last one strictly). */
async function checkAncestors(absolute: string, trustedUids: ReadonlySet<number>): Promise<void> {
  const parts = absolute.split('/').filter((part) => part !== '');
  let current = '/';
  for (let index = -1; index < parts.length; index++) {
    if (index >= 0) current = path.join(current, parts[index] as string);
    const last = index === parts.length - 1;
    let stats;
    try {
      stats = await lstat(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // created by us below
      throw new MeshidError('INVALID_CONFIG', `files target directory ${absolute}: cannot check ${current} (${(error as Error).message})`, { cause: error });
    }
    if (stats.isSymbolicLink()) {
      if (!trustedUids.has(stats.uid)) throw unsafe(absolute, `${current} is a symlink owned by uid ${stats.uid}, not by root, meshid's uid or the target's owner; replace it with the real directory`);
      continue; // where it points is checked on the resolved path
    }
    if (!stats.isDirectory()) throw new MeshidError('INVALID_CONFIG', `files target directory ${absolute}: ${current} is not a directory`);
    const problem = directoryProblem(stats, trustedUids, !last, last ? 'it' : `its parent ${current}`);
    if (problem) throw unsafe(absolute, problem);
  }
}

async function createMissing(absolute: string): Promise<void> {
  const missing: string[] = [];
  for (let current = absolute; ; current = path.dirname(current)) {
    try {
      await lstat(current);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || current === '/') throw error;
      missing.unshift(current);
    }
  }
  for (const dir of missing) {
    try {
      await mkdir(dir, { mode: 0o755 });
      await chmod(dir, 0o755); // the umask may have narrowed it; never wider than 0755
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new MeshidError('INVALID_CONFIG', `files target directory ${absolute}: cannot create ${dir} (${(error as Error).message})`, { cause: error });
    }
  }
}
