import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, realpath, unlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, describe, test } from 'node:test';
import { UnixAttestor } from '../../../src/attestation/attestors/unix-attestor';
import { capturedLogger } from '../../support/captured-logger';
import { spawnAs, stopSpawned } from '../../support/spawned-process';
import { makeTempDir, removeTempDirs } from '../../support/temp-dir';
import { NOT_ROOT } from '../../support/workload-process';
import { subjectOfProcess } from '../../support/attestation-subject';

const run = promisify(execFile);

async function sha256sum(file: string): Promise<string> {
  const { stdout } = await run('sha256sum', [file]);
  return stdout.split(' ')[0] ?? '';
}

const valueOf = (selectors: readonly string[], key: string): string[] =>
  selectors.filter((selector) => selector.startsWith(`unix:${key}:`)).map((selector) => selector.slice(`unix:${key}:`.length));

/** A copy of sleep under `name` in a fresh directory other uids can reach. */
async function copyOfSleep(name: string): Promise<string> {
  const copy = path.join(await makeTempDir('meshid-exe-'), name);
  await copyFile('/usr/bin/sleep', copy);
  return copy;
}

describe('unix attestor: the executable', { skip: NOT_ROOT }, () => {
  after(async () => {
    await stopSpawned();
    await removeTempDirs();
  });

  test('sleep under uid 1000: unix:path and unix:sha256 equal readlink and sha256sum', async () => {
    const sleep = await spawnAs(1000, 'sleep', ['60']);
    const selectors = await new UnixAttestor({ procRoot: '/proc' }).attest(subjectOfProcess(sleep.pid));
    const binary = await realpath('/usr/bin/sleep');
    assert.ok(selectors.includes('unix:uid:1000'), selectors.join(' '));
    assert.deepEqual(valueOf(selectors, 'path'), [binary]);
    assert.deepEqual(valueOf(selectors, 'sha256'), [await sha256sum(binary)]);
  });

  test('processes of one binary cost one hash; another file with the same bytes is hashed again', async () => {
    const hashes: number[] = [];
    const attestor = new UnixAttestor({ procRoot: '/proc', onBinaryHashed: (bytes) => hashes.push(bytes) });
    const [first, second] = await Promise.all([spawnAs(1000, 'sleep', ['60']), spawnAs(1001, 'sleep', ['60'])]);
    const concurrent = await Promise.all([attestor.attest(subjectOfProcess(first.pid)), attestor.attest(subjectOfProcess(second.pid))]);
    const again = await attestor.attest(subjectOfProcess(first.pid));
    assert.equal(hashes.length, 1, 'two processes and a repeat share one hash');
    const digest = valueOf(again, 'sha256')[0];
    assert.ok(digest);
    for (const selectors of concurrent) assert.deepEqual(valueOf(selectors, 'sha256'), [digest]);

    const copy = await spawnAs(1000, await copyOfSleep('sleep'), ['60']);
    assert.deepEqual(valueOf(await attestor.attest(subjectOfProcess(copy.pid)), 'sha256'), [digest]);
    assert.equal(hashes.length, 2, 'a different inode is a different cache key');
  });

  test('above maxHashBytes: unix:path only, and the reason is logged at debug', async () => {
    const { logger, records } = capturedLogger();
    const hashes: number[] = [];
    const attestor = new UnixAttestor({ procRoot: '/proc', maxHashBytes: 1024, logger, onBinaryHashed: (bytes) => hashes.push(bytes) });
    const sleep = await spawnAs(1000, 'sleep', ['60']);
    const selectors = await attestor.attest(subjectOfProcess(sleep.pid));
    assert.equal(valueOf(selectors, 'path').length, 1);
    assert.deepEqual(valueOf(selectors, 'sha256'), []);
    assert.deepEqual(hashes, [], 'the file was not read');
    const reason = records.find((record) => record.msg === 'attestor(unix): no unix:sha256');
    assert.match(String(reason?.reason), /above maxHashBytes \(1024\)/);
  });

  test('hashBinaries: false gives unix:path without reading the file', async () => {
    const hashes: number[] = [];
    const sleep = await spawnAs(1000, 'sleep', ['60']);
    const selectors = await new UnixAttestor({ procRoot: '/proc', hashBinaries: false, onBinaryHashed: (bytes) => hashes.push(bytes) }).attest(subjectOfProcess(sleep.pid));
    assert.deepEqual(valueOf(selectors, 'path'), [await realpath('/usr/bin/sleep')]);
    assert.deepEqual(valueOf(selectors, 'sha256'), []);
    assert.deepEqual(hashes, []);
  });

  test('a binary deleted after exec keeps its path (no " (deleted)") and the digest of what runs', async () => {
    const copy = await copyOfSleep('upgraded-daemon');
    const expected = await sha256sum(copy);
    const sleep = await spawnAs(1000, copy, ['60']);
    await unlink(copy);
    const selectors = await new UnixAttestor({ procRoot: '/proc' }).attest(subjectOfProcess(sleep.pid));
    assert.deepEqual(valueOf(selectors, 'path'), [copy]);
    assert.deepEqual(valueOf(selectors, 'sha256'), [expected]);
  });

  test('a file really named "... (deleted)" keeps its whole name', async () => {
    const copy = await copyOfSleep('tricky (deleted)');
    const sleep = await spawnAs(1000, copy, ['60']);
    const selectors = await new UnixAttestor({ procRoot: '/proc' }).attest(subjectOfProcess(sleep.pid));
    assert.deepEqual(valueOf(selectors, 'path'), [copy]);
  });
});
