/**
 * The CLI contract of `ca rotate` and `ca status` against a stand-in admin server whose answers
 * the test chooses, so the printed text can be pinned exactly.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { RotationStatus } from '../../src/rotation/root-rotation-status';
import { meshid } from '../support/meshid-cli';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { assertFailure, assertSuccess, freePort } from './support/contract';

const PUBLISHING: RotationStatus = {
  phase: 'publishing',
  phaseSince: '2026-01-31T12:00:00.000Z',
  bundleVersion: 7,
  completedRotations: 2,
  trigger: 'admin',
  startedAt: '2026-01-31T12:00:00.000Z',
  oldRoots: [
    { subject: 'O=meshid, CN=old root', sha256: 'AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77', notAfter: '2027-01-01T00:00:00.000Z' },
    { subject: 'O=meshid, CN=older root', sha256: '11:22:33:44:55:66:77:88:99:00:AA:BB:CC:DD', notAfter: '2026-06-01T00:00:00.000Z' },
  ],
  newRoots: [{ subject: 'O=meshid, CN=new root', sha256: '01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E', notAfter: '2028-01-01T00:00:00.000Z' }],
  switchNotBefore: '2026-01-31T12:01:00.000Z',
  switchDeadline: '2026-01-31T12:10:00.000Z',
  waitingForAcks: ['envoy-a', 'envoy-b'],
  lastError: 'previous attempt failed',
};

const PUBLISHING_TEXT = `phase:            publishing (since 2026-01-31T12:00:00.000Z)
bundle version:   7
rotations done:   2
trigger:          admin at 2026-01-31T12:00:00.000Z
old roots:        O=meshid, CN=old root (sha256 AA:BB:CC:DD:EE:FF:00:11…, until 2027-01-01T00:00:00.000Z)
                  O=meshid, CN=older root (sha256 11:22:33:44:55:66:77:88…, until 2026-06-01T00:00:00.000Z)
new roots:        O=meshid, CN=new root (sha256 01:02:03:04:05:06:07:08…, until 2028-01-01T00:00:00.000Z)
switch:           not before 2026-01-31T12:01:00.000Z, at the latest 2026-01-31T12:10:00.000Z
waiting for ACKs: envoy-a; envoy-b
last error:       previous attempt failed
`;

const IDLE: RotationStatus = { phase: 'idle', phaseSince: '2026-01-31T11:00:00.000Z', bundleVersion: 1, completedRotations: 0, dropAt: '2026-02-01T00:00:00.000Z' };

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

/** The next answer of the stand-in admin server, and every request it saw. */
let answer: { status: number; body: string } = { status: 200, body: '{}' };
const seen: Seen[] = [];
let server: http.Server;
let admin: string;

before(async () => {
  await makeTempDir('meshid-cli-ca-');
  server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', contentType: request.headers['content-type'], body });
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  admin = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await removeTempDirs();
});

const ca = (...args: string[]) => meshid(['ca', ...args], { cwd: process.cwd() });

describe('ca status', () => {
  test('text: GET /ca/rotation, every field on its own line', async () => {
    answer = { status: 200, body: JSON.stringify(PUBLISHING) };
    seen.length = 0;
    const result = await ca('status', '--admin', admin);
    assertSuccess(result);
    assert.equal(result.stdout, PUBLISHING_TEXT);
    assert.deepEqual(seen.map(({ method, url }) => `${method} ${url}`), ['GET /ca/rotation']);
  });

  test('text: fields that do not apply are left out', async () => {
    answer = { status: 200, body: JSON.stringify(IDLE) };
    const result = await ca('status', '--admin', admin);
    assertSuccess(result);
    assert.equal(result.stdout, 'phase:            idle (since 2026-01-31T11:00:00.000Z)\nbundle version:   1\nrotations done:   0\nold roots drop:   2026-02-01T00:00:00.000Z\n');
  });

  test('--output json: the status document, one line', async () => {
    answer = { status: 200, body: JSON.stringify(PUBLISHING) };
    const result = await ca('status', '--admin', admin, '--output', 'json');
    assertSuccess(result);
    assert.equal(result.stdout, `${JSON.stringify(PUBLISHING)}\n`);
  });

  test('an error status without a body: exit 1, "no reason given"', async () => {
    answer = { status: 500, body: 'oops' };
    assertFailure(await ca('status', '--admin', admin), /^meshid: status unavailable \(HTTP 500\): no reason given\n$/);
  });
});

describe('ca rotate', () => {
  test('started: POST /ca/rotate with {}, "root rotation started" then the status', async () => {
    answer = { status: 200, body: JSON.stringify(PUBLISHING) };
    seen.length = 0;
    const result = await ca('rotate', '--admin', admin);
    assertSuccess(result);
    assert.equal(result.stdout, `root rotation started\n${PUBLISHING_TEXT}`);
    assert.deepEqual(seen, [{ method: 'POST', url: '/ca/rotate', contentType: 'application/json', body: '{}' }]);
  });

  test('--output json: the status document only', async () => {
    answer = { status: 200, body: JSON.stringify(PUBLISHING) };
    const result = await ca('rotate', '--admin', admin, '--output', 'json');
    assertSuccess(result);
    assert.equal(result.stdout, `${JSON.stringify(PUBLISHING)}\n`);
  });

  test('refused: exit 1 with the server reason', async () => {
    answer = { status: 409, body: JSON.stringify({ error: 'a root rotation is already in progress' }) };
    assertFailure(await ca('rotate', '--admin', admin), /^meshid: rotation refused \(HTTP 409\): a root rotation is already in progress\n$/);
  });

  test('no admin server listening: exit 1 for rotate and status', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    for (const verb of ['rotate', 'status']) {
      assertFailure(await ca(verb, '--admin', closed), new RegExp(`^meshid: no agent admin server reachable at ${closed.replace(/\./g, '\\.')} \\(.+\\); is the agent running, with admin enabled\\?\\n$`));
    }
  });
});
