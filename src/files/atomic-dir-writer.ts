import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, mkdir, open, readlink, rename, rm, symlink, unlink } from 'node:fs/promises';
import type { TargetDirectory } from './target-directory';
import { faultPoint } from './fault-point';

/**
 * The on-disk layout of a files target, as Kubernetes' AtomicWriter lays out a projected volume:
 *
 *     dir/..2026_12_02_16_20_00.123456789/chain.pem   the files of one write
 *     dir/..data -> ..2026_12_02_16_20_00.123456789    the set in force
 *     dir/chain.pem -> ..data/chain.pem                the documented paths
 *
 * A write fills a new timestamped directory, then renames a fresh `..data_tmp` symlink over
 * `..data`: one rename switches every documented path from the old set to the new one, so at
 * any instant (and after a kill at any point) the paths resolve into one complete set.
 */
export const DATA_LINK = '..data';
const DATA_LINK_TEMP = '..data_tmp';
const SET_DIRECTORY = /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d{9}$/;

export interface SetFile {
  /** A plain name in the target's directory: the basename of certFile, keyFile... */
  readonly name: string;
  readonly data: string | Buffer;
  readonly mode: number;
}

export interface WriteSetOptions {
  readonly owner?: { readonly uid: number; readonly gid: number };
  readonly now: Date;
}

/** Writes `files` as a new set and switches `..data` to it; returns the set directory's name. */
export async function writeAtomicSet(dir: TargetDirectory, files: readonly SetFile[], options: WriteSetOptions): Promise<string> {
  const previous = await currentSet(dir);
  const setName = await createSetDirectory(dir, options.now);
  try {
    for (const [index, file] of files.entries()) {
      await writeNewFile(dir.at(setName) + '/' + file.name, file.data, file.mode, options.owner);
      if (index === 0) faultPoint('files.partial-set');
    }
    await syncPath(dir.at(setName));
    faultPoint('files.staged');
    // The documented paths first: they only ever name ..data/<name>, so they are right for
    // every set (a new name dangles until the swap; nothing is ever mixed).
    for (const file of files) await ensureDocumentedLink(dir, file.name);
    await unlink(dir.at(DATA_LINK_TEMP)).catch(ignoreMissing);
    // symlink(2) fails on an existing name and rename(2) replaces the link itself, never
    // following it: the swap cannot be redirected out of the checked directory.
    await symlink(setName, dir.at(DATA_LINK_TEMP));
    faultPoint('files.link-staged');
    await rename(dir.at(DATA_LINK_TEMP), dir.at(DATA_LINK));
    await dir.sync();
  } catch (error) {
    // The set in force is untouched unless the rename landed; remove the half-written one.
    if ((await currentSet(dir)) !== setName) await rm(dir.at(setName), { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
  faultPoint('files.swapped');
  if (previous !== undefined && previous !== setName) await rm(dir.at(previous), { recursive: true, force: true });
  await removeStale(dir, files.map((file) => file.name));
  return setName;
}

/** The set directory `..data` names now, if any. */
export async function currentSet(dir: TargetDirectory): Promise<string | undefined> {
  try {
    const target = await readlink(dir.at(DATA_LINK));
    return SET_DIRECTORY.test(target) ? target : undefined;
  } catch (error) {
    if (['ENOENT', 'EINVAL'].includes((error as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw error;
  }
}

/**
 * What an interrupted write leaves behind, removed at start and after each write: set
 * directories `..data` does not name, `..data_tmp`, and the temporary files of `names`
 * (`.<name>.<hex>.tmp`, also those of the single-file writes of earlier versions).
 * Only these patterns are touched; anything else in the directory is the operator's.
 */
export async function removeStale(dir: TargetDirectory, names: readonly string[]): Promise<string[]> {
  const inForce = await currentSet(dir);
  const temps = names.map((name) => new RegExp(`^\\.${escapeRegExp(name)}\\.[0-9a-f]+\\.tmp$`));
  const removed: string[] = [];
  for (const entry of await dir.list()) {
    const stale = (SET_DIRECTORY.test(entry) && entry !== inForce) || entry === DATA_LINK_TEMP || temps.some((pattern) => pattern.test(entry));
    if (!stale) continue;
    await rm(dir.at(entry), { recursive: true, force: true });
    removed.push(entry);
  }
  return removed;
}

async function createSetDirectory(dir: TargetDirectory, now: Date): Promise<string> {
  const pad = (value: number, width = 2): string => String(value).padStart(width, '0');
  const stamp = `..${now.getUTCFullYear()}_${pad(now.getUTCMonth() + 1)}_${pad(now.getUTCDate())}_${pad(now.getUTCHours())}_${pad(now.getUTCMinutes())}_${pad(now.getUTCSeconds())}`;
  // Milliseconds from the clock, then 6 random digits: unique even for two writes in one ms.
  for (let attempt = 0; ; attempt++) {
    const name = `${stamp}.${pad(now.getUTCMilliseconds(), 3)}${pad(randomBytes(4).readUInt32BE() % 1_000_000, 6)}`;
    try {
      await mkdir(dir.at(name), { mode: 0o755 });
      await chmod(dir.at(name), 0o755);
      return name;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 5) throw error;
    }
  }
}

/** O_EXCL|O_NOFOLLOW: never writes through a name someone planted, only into a fresh file. */
async function writeNewFile(file: string, data: string | Buffer, mode: number, owner?: { uid: number; gid: number }): Promise<void> {
  const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    await handle.writeFile(data);
    await handle.chmod(mode); // the umask may have narrowed `mode` at creation
    if (owner) await handle.chown(owner.uid, owner.gid);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** `name -> ..data/name`, replacing a regular file of an older layout (or anything else) by a rename. */
async function ensureDocumentedLink(dir: TargetDirectory, name: string): Promise<void> {
  const wanted = `${DATA_LINK}/${name}`;
  try {
    if ((await readlink(dir.at(name))) === wanted) return;
  } catch (error) {
    if (!['ENOENT', 'EINVAL'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
  }
  const temp = `.${name}.${randomBytes(6).toString('hex')}.tmp`;
  await symlink(wanted, dir.at(temp));
  try {
    await rename(dir.at(temp), dir.at(name));
  } catch (error) {
    await unlink(dir.at(temp)).catch(() => undefined);
    throw error;
  }
}

async function syncPath(directory: string): Promise<void> {
  const handle = await open(directory, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the files themselves are synced.
  } finally {
    await handle.close();
  }
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * One file on its own (a pkcs12File outside the target's directory: a keystore is read in one
 * open, so it needs no pairing): a fresh temp file (O_EXCL|O_NOFOLLOW), synced, renamed over.
 */
export async function writeSingleFile(dir: TargetDirectory, file: SetFile, owner?: { uid: number; gid: number }): Promise<void> {
  const temp = `.${file.name}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeNewFile(dir.at(temp), file.data, file.mode, owner);
    await rename(dir.at(temp), dir.at(file.name));
  } catch (error) {
    await unlink(dir.at(temp)).catch(() => undefined);
    throw error;
  }
  await dir.sync();
}
