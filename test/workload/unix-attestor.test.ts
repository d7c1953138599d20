import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { UnixAttestor, parseStatusIds } from '../../src/workload/attestors/unix-attestor';
import { readProcessStartTime } from '../../src/workload/process-start-time';

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

test('selectors come from the effective ids, with names where the account files have them', async () => {
  const root = await fixtureRoot();
  const attestor = new UnixAttestor({ procRoot: root, passwdFile: path.join(root, 'passwd'), groupFile: path.join(root, 'group') });
  const selectors = await attestor.attest(4242);
  assert.deepEqual([...selectors].sort(), [
    'unix:gid:102',
    'unix:group:nginx',
    'unix:supplementary_gid:27',
    'unix:supplementary_gid:4',
    'unix:uid:101',
    'unix:user:nginx',
  ]);
});

test('a vanished process fails attestation with the attestor named', async () => {
  const root = await fixtureRoot();
  const attestor = new UnixAttestor({ procRoot: root });
  await assert.rejects(attestor.attest(99999), /attestor\(unix\)/);
});

test('the start time is field 22 even when the command name holds ") "', async () => {
  const root = await fixtureRoot();
  assert.equal(await readProcessStartTime(root, 4242), 987654n);
  assert.equal(await readProcessStartTime(root, 99999), undefined);
});

test('the real /proc gives this process a start time and its real uid', async () => {
  const startTime = await readProcessStartTime('/proc', process.pid);
  assert.equal(typeof startTime, 'bigint');
  const selectors = await new UnixAttestor({ procRoot: '/proc' }).attest(process.pid);
  assert.ok(selectors.includes(`unix:uid:${process.geteuid?.()}`));
});

test('status parsing rejects a status without ids', () => {
  assert.equal(parseStatusIds('Name:\tx\n'), undefined);
});
