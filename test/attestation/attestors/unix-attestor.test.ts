import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { UnixAttestor } from '../../../src/attestation/attestors/unix-attestor';
import { readProcessStartTime } from '../../../src/attestation/process-stat';
import { parseProcessIds } from '../../../src/attestation/process-status';
import { subjectOfProcess } from '../../support/attestation-subject';

const STATUS = `Name:\tnginx
Umask:\t0022
State:\tS (sleeping)
Pid:\t4242
Uid:\t0\t101\t101\t101
Gid:\t0\t102\t102\t102
Groups:\t4 27 
`;

async function fixtureRoot(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'meshid-proc-'));
  await mkdir(path.join(root, '4242'));
  await writeFile(path.join(root, '4242', 'status'), STATUS);
  // comm "(a) b)" contains ") " on purpose: fields must be counted from the last ')'.
  await writeFile(path.join(root, '4242', 'stat'), '4242 ((a) b)) S 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 1000 10\n');
  await writeFile(path.join(root, 'passwd'), 'root:x:0:0::/root:/bin/sh\nnginx:x:101:102::/:/bin/false\n');
  await writeFile(path.join(root, 'group'), 'root:x:0:\nadm:x:4:\nnginx:x:102:\n');
  return root;
}

test('selectors come from the connect-time ids, with names where the account files have them', async () => {
  const root = await fixtureRoot();
  const attestor = new UnixAttestor({ procRoot: root, passwdFile: path.join(root, 'passwd'), groupFile: path.join(root, 'group') });
  // /proc/4242/status says uid 0 real, 101 effective: the subject (SO_PEERCRED) is what counts.
  const selectors = await attestor.attest({ pid: 4242, uid: 101, gid: 102, supplementaryGids: [4, 27], executable: undefined });
  assert.deepEqual([...selectors].sort(), [
    'unix:gid:102',
    'unix:group:nginx',
    'unix:supplementary_gid:27',
    'unix:supplementary_gid:4',
    'unix:uid:101',
    'unix:user:nginx',
  ]);
});

test('a subject without a pinned executable gets no unix:path or unix:sha256', async () => {
  const root = await fixtureRoot();
  const attestor = new UnixAttestor({ procRoot: root, passwdFile: path.join(root, 'passwd'), groupFile: path.join(root, 'group') });
  const selectors = await attestor.attest({ pid: 4242, uid: 7, gid: 8, supplementaryGids: [], executable: undefined });
  assert.deepEqual([...selectors].sort(), ['unix:gid:8', 'unix:uid:7']);
});

test('the start time is field 22 even when the command name holds ") "', async () => {
  const root = await fixtureRoot();
  assert.equal(readProcessStartTime(root, 4242), 987654n);
  assert.equal(readProcessStartTime(root, 99999), undefined);
});

test('the real /proc gives this process a start time and its real uid', async () => {
  const startTime = readProcessStartTime('/proc', process.pid);
  assert.equal(typeof startTime, 'bigint');
  const selectors = await new UnixAttestor({ procRoot: '/proc' }).attest(subjectOfProcess(process.pid));
  assert.ok(selectors.includes(`unix:uid:${process.geteuid?.()}`));
});

test('status parsing: all four ids of Uid/Gid, the supplementary groups, and nothing from a status without ids', () => {
  assert.deepEqual(parseProcessIds(STATUS), { uids: [0, 101, 101, 101], gids: [0, 102, 102, 102], supplementaryGids: [4, 27] });
  assert.equal(parseProcessIds('Name:\tx\n'), undefined);
  assert.equal(parseProcessIds('Uid:\t1\t2\nGid:\t1\t1\t1\t1\n'), undefined, 'a truncated Uid line is not trusted');
});
