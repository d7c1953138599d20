import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { access, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RotationStatus } from '../../src/rotation/root-rotation-status';
import { AgentProcesses, meshid } from '../support/meshid-cli';
import { eventually } from '../support/rotation-traffic';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';

/** A loopback port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const fingerprint = async (file: string): Promise<string> => new X509Certificate(await readFile(file)).fingerprint256;

describe('meshid ca rotate / ca status against meshid run (self-signed upstream)', () => {
  const agents = new AgentProcesses();
  let dir: string;
  let configFile: string;
  let socketPath: string;
  let admin: string;
  let dataDir: string;

  before(async () => {
    dir = await makeTempDir('meshid-ca-cli-');
    dataDir = path.join(dir, 'data');
    socketPath = path.join(dir, 'agent.sock');
    admin = `127.0.0.1:${await freePort()}`;
    configFile = path.join(dir, 'meshid.yaml');
    // A real clock here: a one-second propagation delay keeps the wait short.
    await writeFile(configFile, `trustDomain: example.org\ndataDir: ${dataDir}\nsocketPath: ${socketPath}\nadmin:\n  listen: ${admin}\nca:\n  rotationPropagationDelay: 1s\nentries:\n  - spiffeId: spiffe://example.org/cli\n    selectors: ['unix:uid:${process.getuid?.() ?? 0}']\n`);
    await agents.start(configFile, socketPath, dir);
    // One SVID issued under the first root: the old root must then stay until it expires.
    const fetched = await meshid(['api', 'fetch', 'x509', '--socket', socketPath], { cwd: dir });
    assert.equal(fetched.code, 0, fetched.stderr);
  });
  after(async () => {
    await agents.stopAll();
    await removeTempDirs();
  });

  const status = async (): Promise<RotationStatus> => {
    const result = await meshid(['ca', 'status', '--admin', admin, '--output', 'json'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as RotationStatus;
  };

  it('shows idle, starts a rotation, refuses a second one, and persists the new root at the switch', async () => {
    const idle = await meshid(['ca', 'status', '--admin', admin], { cwd: dir });
    assert.equal(idle.code, 0, idle.stderr);
    assert.match(idle.stdout, /^phase: +idle/m);
    const oldRoot = await fingerprint(path.join(dataDir, 'upstream-ca.pem'));

    const started = await meshid(['ca', 'rotate', '--admin', admin], { cwd: dir });
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /^root rotation started$/m);
    assert.match(started.stdout, /^phase: +publishing/m);
    assert.match(started.stdout, /^new roots: +.*meshid root CA example\.org \d{8}T\d{6}Z/m);

    const refused = await meshid(['ca', 'rotate', '--admin', admin], { cwd: dir });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /rotation refused \(HTTP 409\): a root rotation is already in progress/);

    let current = await status();
    await eventually(async () => (current = await status()).phase === 'switched', 'the switch after the 1 s propagation delay');
    const newRoot = current.newRoots?.[0]?.sha256 ?? '';
    assert.notEqual(newRoot, oldRoot);
    await eventually(async () => (await fingerprint(path.join(dataDir, 'upstream-ca.pem')).catch(() => '')) === newRoot, 'the new root persisted as the active one');
    await eventually(async () => (await fingerprint(path.join(dataDir, 'upstream-ca.retired.pem')).catch(() => '')) === oldRoot, 'the old root kept as retired');
    await assert.rejects(access(path.join(dataDir, 'upstream-ca.next.pem')), { code: 'ENOENT' }, 'the staged files are gone');
    assert.match(current.dropAt ?? '', /^\d{4}-/);
  });

  it('after a restart mid-rotation, the retired root is still trusted and its drop is resumed', async () => {
    await agents.stopAll();
    await agents.start(configFile, socketPath, dir);
    const resumed = await status();
    assert.equal(resumed.phase, 'switched');
    assert.equal(resumed.trigger, 'resumed');
    assert.equal(resumed.oldRoots?.length, 2, 'the bundle carries the active and the retired root');
    assert.equal(resumed.newRoots?.length, 1);
    assert.equal(resumed.newRoots?.[0]?.sha256, await fingerprint(path.join(dataDir, 'upstream-ca.pem')));
  });

  it('POST /ca/rotate refuses requests a web page could forge: no JSON content type, a foreign Host, or GET', async () => {
    const send = (method: string, headers: Record<string, string>): Promise<number> =>
      new Promise((resolve, reject) => {
        const [host, port] = admin.split(':');
        const request = http.request({ host, port: Number(port), method, path: '/ca/rotate', headers }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        request.on('error', reject);
        request.end(method === 'POST' ? '{}' : undefined);
      });
    assert.equal(await send('POST', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'a cross-site form post');
    assert.equal(await send('POST', { 'content-type': 'application/json', host: 'attacker.example:80' }), 403, 'a DNS-rebound page names its own host');
    assert.equal(await send('GET', {}), 405);
    assert.equal((await status()).phase, 'switched', 'none of them started anything');
  });

  it('says so when no agent listens at --admin', async () => {
    const result = await meshid(['ca', 'rotate', '--admin', `127.0.0.1:${await freePort()}`], { cwd: dir });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no agent admin server reachable at 127\.0\.0\.1:\d+/);
  });
});
