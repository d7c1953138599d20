import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes a file so readers see either the old content or the new, never a torn one: a temp file
 * in the same directory (so the rename cannot cross file systems), created with the final mode
 * (a key is never readable by others, not even for a moment), fsynced, renamed over the target,
 * and the directory fsynced so the rename itself survives a crash.
 */
export async function writeFileAtomic(target: string, data: string | Buffer, mode: number, owner?: { uid: number; gid: number }): Promise<void> {
  const staged = await stageFile(target, data, mode, owner);
  await staged.commit();
}

/** A file written and synced under a temporary name, waiting to be renamed over its target. */
export interface StagedFile {
  /** Renames it over the target and syncs the directory. */
  commit(): Promise<void>;
  /** Removes the temporary file; harmless after commit. */
  discard(): Promise<void>;
}

/**
 * The first half of an atomic write. Staging several files before committing any lets a caller
 * replace a set (key + certificate) so that a failure while writing (disk full) changes nothing.
 */
export async function stageFile(target: string, data: string | Buffer, mode: number, owner?: { uid: number; gid: number }): Promise<StagedFile> {
  const directory = path.dirname(target);
  const temp = path.join(directory, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeNewFile(temp, data, mode, owner);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  return {
    async commit() {
      try {
        await rename(temp, target);
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        throw error;
      }
      await syncDirectory(directory);
    },
    discard: () => unlink(temp).catch(() => undefined),
  };
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the data itself is already synced.
  } finally {
    await handle.close();
  }
}

/**
 * Writes a new file: O_EXCL|O_NOFOLLOW, so it never writes through a name someone planted, only
 * into a file it created, with `mode` (the umask may narrow it at creation, so it is set again)
 * and `owner` set before anyone can open it by its final name, then synced.
 */
export async function writeNewFile(file: string, data: string | Buffer, mode: number, owner?: { uid: number; gid: number }): Promise<void> {
  const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    await handle.writeFile(data);
    await handle.chmod(mode);
    if (owner) await handle.chown(owner.uid, owner.gid);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
