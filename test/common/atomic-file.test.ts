import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { writeFileAtomic } from '../../src/common/atomic-file';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';

after(removeTempDirs);

test('writeFileAtomic writes with the given mode, replaces the old content and leaves no temp file', async () => {
  const dir = await makeTempDir('meshid-atomic-');
  const target = path.join(dir, 'secret.key');
  await writeFile(target, 'old', { mode: 0o644 });
  await writeFileAtomic(target, 'new content', 0o600);
  assert.equal(await readFile(target, 'utf8'), 'new content');
  assert.equal((await stat(target)).mode & 0o777, 0o600);
  await writeFileAtomic(path.join(dir, 'public.pem'), Buffer.from('cert'), 0o644);
  assert.equal((await stat(path.join(dir, 'public.pem'))).mode & 0o777, 0o644);
  assert.deepEqual((await readdir(dir)).sort(), ['public.pem', 'secret.key']);
});

test('writeFileAtomic fails cleanly when the directory does not exist', async () => {
  const dir = await makeTempDir('meshid-atomic-');
  await assert.rejects(writeFileAtomic(path.join(dir, 'missing', 'x'), 'data', 0o600), { code: 'ENOENT' });
  assert.deepEqual(await readdir(dir), []);
});
