import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { DATA_LINK, removeStale } from '../../src/files/atomic-dir-writer';
import type { FilesFaultPoint } from '../../src/files/fault-point';
import { TargetDirectory } from '../../src/files/target-directory';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';

after(removeTempDirs);

const WRITER = path.join(__dirname, 'support', 'set-writer-main.js');
const NAMES = ['key.pem', 'chain.pem', 'bundle.pem', 'app.p12'];

function runWriter(dir: string, point: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, dir, point], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** The tag ("A" or "B") every documented path shows; fails if they differ or one is missing. */
async function consistentTag(dir: string): Promise<string> {
  const tags = await Promise.all(NAMES.map(async (name) => (await readFile(path.join(dir, name), 'utf8')).trim().split(' ')[1]));
  assert.equal(new Set(tags).size, 1, `one set through every documented path, got ${tags.join(', ')}`);
  return tags[0] as string;
}

const POINTS: [FilesFaultPoint, string][] = [
  ['files.partial-set', 'A'],
  ['files.staged', 'A'],
  ['files.link-staged', 'A'],
  ['files.swapped', 'B'],
];

for (const [point, expected] of POINTS) {
  test(`a kill at ${point} leaves the ${expected === 'A' ? 'old' : 'new'} complete set, and the next start removes the leftovers`, async () => {
    const dir = await makeTempDir('meshid-crash-');
    const result = await runWriter(dir, point);
    assert.equal(result.signal, 'SIGKILL', `the writer was killed at the fault point (exit ${result.code}: ${result.stderr})`);
    assert.equal(await consistentTag(dir), expected);

    const target = await TargetDirectory.open(dir, new Set([0, process.getuid?.() ?? 0]));
    try {
      await removeStale(target, NAMES);
    } finally {
      await target.close();
    }
    const left = await readdir(dir);
    assert.equal(left.filter((name) => name.startsWith('..2')).length, 1, `only the set in force is left: ${left.join(' ')}`);
    assert.deepEqual(left.filter((name) => name.endsWith('.tmp') || name === '..data_tmp'), []);
    assert.ok(left.includes(DATA_LINK));
    assert.equal(await consistentTag(dir), expected);
  });
}

test('without a fault point the writer finishes with set B', async () => {
  const dir = await makeTempDir('meshid-crash-');
  const result = await runWriter(dir, 'none');
  assert.equal(result.code, 0, result.stderr);
  assert.equal(await consistentTag(dir), 'B');
});
