import assert from 'node:assert/strict';
import { lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { DATA_LINK, removeStale, writeAtomicSet, writeSingleFile, type SetFile } from '../../src/files/atomic-dir-writer';
import { TargetDirectory } from '../../src/files/target-directory';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';

after(removeTempDirs);

const ROOT_ONLY = new Set([0, process.getuid?.() ?? 0]);
const SET_DIR = /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d{9}$/;

const set = (tag: string): SetFile[] => [
  { name: 'key.pem', data: `key ${tag}\n`, mode: 0o600 },
  { name: 'chain.pem', data: `chain ${tag}\n`, mode: 0o644 },
  { name: 'bundle.pem', data: `bundle ${tag}\n`, mode: 0o644 },
];

async function openDir(dir: string): Promise<TargetDirectory> {
  return TargetDirectory.open(dir, ROOT_ONLY);
}

async function writeSet(dir: string, tag: string): Promise<string> {
  const target = await openDir(dir);
  try {
    return await writeAtomicSet(target, set(tag), { now: new Date() });
  } finally {
    await target.close();
  }
}

test('a write makes a timestamped set, points ..data at it and the documented paths through ..data', async () => {
  const dir = path.join(await makeTempDir('meshid-set-'), 'out');
  const first = await writeSet(dir, 'A');
  assert.match(first, SET_DIR);
  assert.equal(await readlink(path.join(dir, DATA_LINK)), first);
  for (const name of ['key.pem', 'chain.pem', 'bundle.pem']) {
    assert.equal(await readlink(path.join(dir, name)), `${DATA_LINK}/${name}`);
    assert.equal(await readFile(path.join(dir, name), 'utf8'), `${name.replace('.pem', '')} A\n`);
  }
  assert.equal((await stat(path.join(dir, 'key.pem'))).mode & 0o777, 0o600);
  assert.equal((await stat(path.join(dir, first))).mode & 0o777, 0o755);
  assert.equal((await stat(dir)).mode & 0o777, 0o755, 'a created target directory is 0755');

  const second = await writeSet(dir, 'B');
  assert.notEqual(second, first);
  assert.equal(await readFile(path.join(dir, 'key.pem'), 'utf8'), 'key B\n');
  assert.deepEqual((await readdir(dir)).sort(), [second, DATA_LINK, 'bundle.pem', 'chain.pem', 'key.pem'].sort(), 'the old set is removed after the swap');
});

test('regular files of the earlier layout are replaced by links on the first write', async () => {
  const dir = await makeTempDir('meshid-set-');
  await writeFile(path.join(dir, 'key.pem'), 'old key');
  await writeFile(path.join(dir, 'chain.pem'), 'old chain');
  await writeFile(path.join(dir, 'unrelated.txt'), 'the operator’s');
  await writeSet(dir, 'A');
  assert.ok((await lstat(path.join(dir, 'key.pem'))).isSymbolicLink());
  assert.equal(await readFile(path.join(dir, 'chain.pem'), 'utf8'), 'chain A\n');
  assert.equal(await readFile(path.join(dir, 'unrelated.txt'), 'utf8'), 'the operator’s', 'other files are left alone');
});

test('a symlink planted at a documented path or at ..data_tmp is replaced, never written through', async () => {
  const dir = await makeTempDir('meshid-set-');
  const victim = path.join(await makeTempDir('meshid-victim-'), 'shadow');
  await writeFile(victim, 'victim content');
  await symlink(victim, path.join(dir, 'key.pem'));
  await symlink(path.dirname(victim), path.join(dir, '..data_tmp'));
  await symlink(path.dirname(victim), path.join(dir, DATA_LINK));
  await writeSet(dir, 'A');
  assert.equal(await readFile(victim, 'utf8'), 'victim content');
  assert.deepEqual(await readdir(path.dirname(victim)), ['shadow'], 'nothing created in the directory the links named');
  assert.equal(await readFile(path.join(dir, 'key.pem'), 'utf8'), 'key A\n');
});

test('at start, sets ..data does not name, ..data_tmp and temp files of an interrupted write are removed', async () => {
  const dir = await makeTempDir('meshid-set-');
  const inForce = await writeSet(dir, 'A');
  const stale = '..2026_01_01_00_00_00.000000001';
  await mkdir(path.join(dir, stale));
  await writeFile(path.join(dir, stale, 'key.pem'), 'half');
  await symlink(stale, path.join(dir, '..data_tmp'));
  await writeFile(path.join(dir, '.key.pem.0a1b2c3d4e5f.tmp'), 'a key at 0600', { mode: 0o600 });
  await writeFile(path.join(dir, '.other.pem.0a1b2c3d4e5f.tmp'), 'not one of this target’s names');
  const target = await openDir(dir);
  try {
    assert.deepEqual((await removeStale(target, ['key.pem', 'chain.pem', 'bundle.pem'])).sort(), [stale, '..data_tmp', '.key.pem.0a1b2c3d4e5f.tmp'].sort());
  } finally {
    await target.close();
  }
  assert.deepEqual((await readdir(dir)).sort(), [inForce, DATA_LINK, '.other.pem.0a1b2c3d4e5f.tmp', 'bundle.pem', 'chain.pem', 'key.pem'].sort());
  assert.equal(await readFile(path.join(dir, 'key.pem'), 'utf8'), 'key A\n', 'the set in force is kept');
});

test('a keystore outside the set directory is replaced on its own by a rename, never through a planted link', async () => {
  const dir = await makeTempDir('meshid-set-');
  const victim = path.join(await makeTempDir('meshid-victim-'), 'victim');
  await writeFile(victim, 'victim content');
  await symlink(victim, path.join(dir, 'app.p12'));
  const target = await openDir(dir);
  try {
    await writeSingleFile(target, { name: 'app.p12', data: 'keystore 1', mode: 0o600 });
    await writeSingleFile(target, { name: 'app.p12', data: 'keystore 2', mode: 0o600 });
  } finally {
    await target.close();
  }
  assert.equal(await readFile(victim, 'utf8'), 'victim content');
  assert.equal((await lstat(path.join(dir, 'app.p12'))).isFile(), true);
  assert.equal(await readFile(path.join(dir, 'app.p12'), 'utf8'), 'keystore 2');
  assert.equal((await stat(path.join(dir, 'app.p12'))).mode & 0o777, 0o600);
  assert.deepEqual(await readdir(dir), ['app.p12'], 'no temp file left');
});
