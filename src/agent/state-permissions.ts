import { chmod, lstat, readdir, stat, unlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { MeshidError } from '../common/errors';

/**
 * The files the agent itself writes into dataDir. Each must be owned by the agent's uid: a root,
 * key or record someone else put there is never loaded (a local user who could drop an
 * `upstream-ca.retired.pem` would be in every workload's trust bundle).
 */
const AGENT_FILE = /^(upstream-ca\.(key|pem|next\.key|next\.pem|retired\.pem|first-start\.pem|leaf-ttl\.json)|jwt-keys\.json|spire-agent-svid\.pem|spire-bundle\.pem)$/;
/** Files holding a private key: never readable by group or others. */
const KEY_FILE = /(\.key|^upstream-ca\.first-start\.pem|^jwt-keys\.json|^spire-agent-svid\.pem)$/;
/** A temp file of an atomic write (src/common/atomic-file.ts) that a kill left behind: never read, removed at start. */
const ATOMIC_TEMP = /^\..+\.[0-9a-f]{12}\.tmp$/;
/** How many entries are looked at: dataDir holds a handful of files; a bound keeps a stray tree from slowing start. */
const MAX_ENTRIES = 10_000;

export interface StatePermissionOptions {
  /** The agent's effective uid (default process.geteuid()). */
  readonly uid?: number;
  /** The mode an empty dataDir is given when it is found writable by others (0700, or 0711). */
  readonly dataDirMode: number;
  readonly logger?: Logger;
}

/**
 * Like ssh's StrictModes, at start: refuses (MeshidError INVALID_CONFIG, the CLI exits 2) when
 * dataDir or anything in it is writable by group or others, a key file is readable by group or
 * others, dataDir or a file the agent writes is owned by another uid, or such a file is a symlink.
 * Other entries may also be owned by root. The message names the path and the command that fixes
 * it. Sockets are skipped (the agent's own is 0777 by design). An empty dataDir owned by the
 * agent but open to others (a Kubernetes emptyDir is 0777) is narrowed to `dataDirMode` instead,
 * since nothing in it can have been planted. A missing dataDir is created later with the right mode.
 * Temp files of atomic writes that a kill left in dataDir are removed.
 */
export async function checkStatePermissions(dataDir: string, options: StatePermissionOptions): Promise<void> {
  const uid = options.uid ?? process.geteuid?.() ?? 0;
  const directory = await stat(dataDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw refuse(`cannot inspect dataDir ${dataDir}: ${error.message}`);
  });
  if (!directory) return;
  if (!directory.isDirectory()) throw refuse(`dataDir ${dataDir} is not a directory`);
  if (directory.uid !== uid) throw refuse(`dataDir ${dataDir} is owned by uid ${directory.uid}, not by the agent's uid ${uid}; run: chown ${uid} ${dataDir}`);
  if ((directory.mode & 0o022) !== 0) {
    const openTo = `dataDir ${dataDir} is writable by group or others (mode ${octal(directory.mode)})`;
    if ((await listDir(dataDir)).length > 0) throw refuse(`${openTo} and not empty, so its files may not be the agent's; check them, then run: chmod ${octal(options.dataDirMode)} ${dataDir}`);
    // Empty: narrow it, then look again (an entry added before the chmod is seen; none can be added after).
    await chmod(dataDir, options.dataDirMode);
    if ((await listDir(dataDir)).length > 0) throw refuse(`${openTo}; something was added to it while the agent narrowed it to ${octal(options.dataDirMode)}: check it`);
    options.logger?.warn({ dataDir, mode: octal(directory.mode), now: octal(options.dataDirMode) }, 'dataDir was writable by group or others and empty; narrowed its mode');
    return;
  }
  let seen = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await listDir(dir)).sort()) {
      if (++seen > MAX_ENTRIES) return;
      const file = path.join(dir, name);
      const entry = await lstat(file).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined; // removed meanwhile
        throw refuse(`cannot inspect ${file}: ${error.message}`);
      });
      if (!entry) continue;
      if (dir === dataDir && ATOMIC_TEMP.test(name) && entry.isFile() && entry.uid === uid) {
        await unlink(file).catch(() => undefined);
        options.logger?.info({ file }, 'removed the temp file of a write a kill interrupted');
        continue;
      }
      checkEntry(file, dir === dataDir && AGENT_FILE.test(name), KEY_FILE.test(name), entry, uid);
      if (entry.isDirectory()) await walk(file);
    }
  };
  await walk(dataDir);
}

function checkEntry(file: string, writtenByAgent: boolean, holdsKey: boolean, entry: Stats, uid: number): void {
  if (entry.isSocket()) return;
  if (entry.isSymbolicLink()) {
    if (writtenByAgent) throw refuse(`${file} is a symlink; the agent never writes one, so it does not load it: move it away`);
    if (entry.uid !== uid && entry.uid !== 0) throw refuse(`${file} is owned by uid ${entry.uid}, not by the agent's uid ${uid} or root; run: chown -h ${uid} ${file}, or move it away`);
    return; // a symlink's own mode means nothing
  }
  if (writtenByAgent && entry.uid !== uid) {
    throw refuse(`${file} is owned by uid ${entry.uid}, not by the agent's uid ${uid}: the agent did not write it and will not load it; move it away (or, if it is the agent's own, run: chown ${uid} ${file})`);
  }
  if (entry.uid !== uid && entry.uid !== 0) throw refuse(`${file} is owned by uid ${entry.uid}, not by the agent's uid ${uid} or root; run: chown ${uid} ${file}, or move it away`);
  if ((entry.mode & 0o022) !== 0) throw refuse(`${file} is writable by group or others (mode ${octal(entry.mode)}); run: chmod go-w ${file}`);
  if (holdsKey && entry.isFile() && (entry.mode & 0o077) !== 0) throw refuse(`${file} holds a private key and is readable by group or others (mode ${octal(entry.mode)}); run: chmod 600 ${file}`);
}

function listDir(dir: string): Promise<string[]> {
  return readdir(dir).catch((error: NodeJS.ErrnoException) => {
    throw refuse(`cannot list ${dir}: ${error.message}`);
  });
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function refuse(reason: string): MeshidError {
  return new MeshidError('INVALID_CONFIG', `state permissions (dataDir): ${reason}`);
}
