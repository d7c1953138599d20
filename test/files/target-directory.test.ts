import assert from 'node:assert/strict';
import { chmod, chown, lchown, mkdir, readdir, rename, symlink } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import pino from 'pino';
import { isMeshidError } from '../../src/common/errors';
import type { FileTargetConfig } from '../../src/files/file-target-config';
import { FileTargets } from '../../src/files/file-targets';
import { TargetDirectory } from '../../src/files/target-directory';
import type { SvidSource } from '../../src/serving/svid-source';
import { FakeClock } from '../support/fake-clock';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';

after(removeTempDirs);

const STRANGER = 4242;
const TRUSTED = new Set([0, process.getuid?.() ?? 0]);
const logger = pino({ level: 'silent' });

async function refused(dir: string, pattern: RegExp, trusted: ReadonlySet<number> = TRUSTED): Promise<void> {
  await assert.rejects(TargetDirectory.open(dir, trusted), (error: unknown) => {
    assert.ok(isMeshidError(error, 'INVALID_CONFIG'), String(error));
    assert.match(error.message, pattern);
    return true;
  });
}

async function accepted(dir: string, trusted: ReadonlySet<number> = TRUSTED): Promise<void> {
  const opened = await TargetDirectory.open(dir, trusted);
  await opened.close();
}

test('the running uid as root needs these tests to chown', () => {
  assert.equal(process.getuid?.(), 0, 'these tests chown to other uids');
});

test('a target directory writable by group or others is refused, saying what to chmod', async () => {
  const base = await makeTempDir('meshid-dir-');
  const groupWritable = path.join(base, 'group');
  await mkdir(groupWritable);
  await chmod(groupWritable, 0o775);
  await refused(groupWritable, /files target directory .*group is not safe to write keys into: it is writable by group \(mode 0775\); chmod go-w it/);
  const worldWritable = path.join(base, 'world');
  await mkdir(worldWritable);
  await chmod(worldWritable, 0o1777);
  await refused(worldWritable, /it is writable by group and others \(mode 1777\); chmod go-w it/, TRUSTED);
});

test('a target directory owned by another uid is refused unless it is the configured owner', async () => {
  const dir = path.join(await makeTempDir('meshid-dir-'), 'theirs');
  await mkdir(dir, { mode: 0o755 });
  await chown(dir, STRANGER, STRANGER);
  await refused(dir, /owned by uid 4242, not by root, meshid's uid or the target's owner; chown it/);
  await accepted(dir, new Set([...TRUSTED, STRANGER]));
});

test('a parent writable by others without the sticky bit is refused; sticky /tmp is fine', async () => {
  const base = await makeTempDir('meshid-dir-');
  await chmod(base, 0o777);
  await refused(path.join(base, 'certs'), /its parent \/tmp\/meshid-dir-\w+ is writable by group and others \(mode 0777\); chmod go-w \/tmp\/meshid-dir-\w+$/);
  assert.deepEqual(await readdir(base), [], 'nothing was created under the refused parent');
  await chmod(base, 0o1777);
  await accepted(path.join(base, 'certs'));
});

test('a target directory another user replaced with a symlink is refused (finding 11)', async () => {
  const base = await makeTempDir('meshid-dir-');
  await chmod(base, 0o1777);
  const victim = await makeTempDir('meshid-victim-');
  const planted = path.join(base, 'certs');
  await symlink(victim, planted);
  await lchown(planted, STRANGER, STRANGER);
  await refused(planted, /certs is a symlink owned by uid 4242, .* replace it with the real directory/);
  assert.deepEqual(await readdir(victim), []);
  // A symlink root made (e.g. /var/run -> /run) is followed, and the real directory is checked.
  const trustedLink = path.join(base, 'by-root');
  await symlink(victim, trustedLink);
  await accepted(trustedLink);
});

test('a held directory stays the checked one when its path is swapped for a symlink afterwards', async () => {
  const base = await makeTempDir('meshid-dir-');
  const dir = path.join(base, 'certs');
  const victim = await makeTempDir('meshid-victim-');
  const opened = await TargetDirectory.open(dir, TRUSTED);
  try {
    await rename(dir, path.join(base, 'moved'));
    await symlink(victim, dir);
    await mkdir(opened.at('written-after-swap'));
    assert.deepEqual(await readdir(victim), [], 'nothing lands in the directory the new symlink names');
    assert.deepEqual(await readdir(path.join(base, 'moved')), ['written-after-swap']);
  } finally {
    await opened.close();
  }
});

const target = (dir: string, extra: Partial<FileTargetConfig> = {}): FileTargetConfig => ({
  spiffeId: 'spiffe://example.org/app',
  dnsNames: [],
  certFile: path.join(dir, 'chain.pem'),
  keyFile: path.join(dir, 'key.pem'),
  keyMode: 0o600,
  ...extra,
});

const unusedStore = { subscribe: () => () => undefined } as unknown as SvidSource;

test('FileTargets refuses a layout the ..data swap cannot cover, and an unsafe directory, as INVALID_CONFIG before writing', async () => {
  const base = await makeTempDir('meshid-dir-');
  const targets = new FileTargets({ store: unusedStore, clock: new FakeClock(), logger });
  const invalid = async (configs: FileTargetConfig[], pattern: RegExp): Promise<void> => {
    await assert.rejects(targets.replace(configs), (error: unknown) => isMeshidError(error, 'INVALID_CONFIG') && pattern.test(error.message));
  };
  await invalid([target(base, { keyFile: path.join(base, 'keys', 'key.pem') })], /files\[0\]\.keyFile: ".*keys\/key\.pem" is not in the directory of certFile .*must share one directory/);
  await invalid([target(base, { bundleFile: path.join(base, 'x', 'bundle.pem') })], /files\[0\]\.bundleFile: .* must share one directory/);
  await invalid([target(base), target(base, { spiffeId: 'spiffe://example.org/other', certFile: path.join(base, 'b.pem'), keyFile: path.join(base, 'b.key') })], /files\[1\]\.certFile: the directory .* already holds files\[0\]; each target needs a directory of its own/);
  await invalid([target(base, { certFile: path.join(base, '..data') })], /names starting with "\.\." are meshid's own layout/);
  const unsafe = path.join(base, 'unsafe');
  await mkdir(unsafe);
  await chmod(unsafe, 0o770);
  await invalid([target(unsafe)], /unsafe is not safe to write keys into: it is writable by group/);
  targets.stop();
});
