import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { loadJose } from '../../src/jwt/jose';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { FakeClock } from '../support/fake-clock';
import { verifyWithJwks } from '../support/jwks-verify';
import { meshid, MESHID_MAIN } from '../support/meshid-cli';
import { removeTempDirs } from '../support/temp-dir';
import { NOT_ROOT } from '../support/workload-process';
import { securityHeader, StreamReader, workloadClient, type JwtBundlesResponse } from '../support/workload-client';

// The CLI as a black box (a child process) against a real agent running in this process.
const uid = process.getuid?.() ?? 0;
const OPS = 'spiffe://example.org/ops';
const clock = new FakeClock(Date.now());
let harness: Harness;
let cwd: string;

before(async () => {
  harness = await startTestAgent({ entries: [{ spiffeId: OPS, selectors: [`unix:uid:${uid}`], hint: 'operator' }] }, clock);
  cwd = harness.dir;
});
after(async () => {
  await harness?.agent.stop();
  await removeTempDirs();
});

const cli = (...args: string[]) => meshid([...args, '--socket', harness.socketPath], { cwd });

async function currentJwks(): Promise<Buffer> {
  const client = workloadClient(harness.socketPath);
  const reader = new StreamReader<JwtBundlesResponse>(client.FetchJWTBundles({}, securityHeader()));
  try {
    return (await reader.next()).bundles['spiffe://example.org'] ?? Buffer.alloc(0);
  } finally {
    reader.call.cancel();
    client.close();
  }
}

test('api fetch jwt: JSON for scripts, text for people; the token verifies against the served JWKS', async () => {
  const json = await cli('api', 'fetch', 'jwt', '--audience', 'vault', '--audience', 'db', '--output', 'json');
  assert.equal(json.code, 0, json.stderr);
  const { svids } = JSON.parse(json.stdout) as { svids: { spiffeId: string; hint: string; expiresAt: string; token: string }[] };
  assert.equal(svids.length, 1);
  const [svid] = svids;
  assert.ok(svid);
  assert.equal(svid.spiffeId, OPS);
  assert.equal(svid.hint, 'operator');
  const { payload } = await verifyWithJwks(svid.token, await currentJwks(), 'db', new Date(clock.now()));
  assert.deepEqual(payload.aud, ['vault', 'db']);
  assert.equal(svid.expiresAt, new Date((payload.exp ?? 0) * 1000).toISOString());

  const text = await cli('api', 'fetch', 'jwt', '--audience', 'vault');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^Received 1 JWT-SVID for vault$/m);
  assert.match(text.stdout, /^SPIFFE ID: +spiffe:\/\/example\.org\/ops$/m);
  assert.match(text.stdout, /^Token: +eyJ[\w-]+\.[\w-]+\.[\w-]+$/m);
});

test('api fetch jwt: no audience is a usage error (exit 2); an ID not held is refused (exit 1)', async () => {
  const noAudience = await cli('api', 'fetch', 'jwt');
  assert.equal(noAudience.code, 2, noAudience.stderr);
  assert.match(noAudience.stderr, /--audience is required/);
  const notHeld = await cli('api', 'fetch', 'jwt', '--audience', 'vault', '--spiffe-id', 'spiffe://example.org/web');
  assert.equal(notHeld.code, 1, notHeld.stderr);
  assert.match(notHeld.stderr, /PERMISSION_DENIED: .*spiffe:\/\/example\.org\/web/);
});

test('api validate jwt: exit 0 with the SPIFFE ID and claims; exit 1 with the reason for a wrong audience or a garbled token', async () => {
  const fetched = JSON.parse((await cli('api', 'fetch', 'jwt', '--audience', 'vault', '--output', 'json')).stdout) as { svids: { token: string }[] };
  const token = fetched.svids[0]?.token ?? '';

  const json = await cli('api', 'validate', 'jwt', '--audience', 'vault', '--svid', token, '--output', 'json');
  assert.equal(json.code, 0, json.stderr);
  const validated = JSON.parse(json.stdout) as { spiffeId: string; claims: Record<string, unknown> };
  assert.equal(validated.spiffeId, OPS);
  assert.deepEqual(validated.claims, (await loadJose()).decodeJwt(token));

  const text = await cli('api', 'validate', 'jwt', '--audience', 'vault', '--svid', token);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^Valid JWT-SVID for vault/m);
  assert.match(text.stdout, /^SPIFFE ID: +spiffe:\/\/example\.org\/ops$/m);

  const wrongAudience = await cli('api', 'validate', 'jwt', '--audience', 'db', '--svid', token);
  assert.equal(wrongAudience.code, 1);
  assert.match(wrongAudience.stderr, /INVALID_ARGUMENT: JWT-SVID rejected: audience/);
  const garbled = await cli('api', 'validate', 'jwt', '--audience', 'vault', '--svid', 'garbage');
  assert.equal(garbled.code, 1);
  assert.match(garbled.stderr, /INVALID_ARGUMENT: JWT-SVID rejected: not a well-formed/);
  assert.equal((await cli('api', 'validate', 'jwt', '--audience', 'vault')).code, 2, '--svid is required');
});

test('healthcheck: exit 0 against the agent; exit 1 with one line for no agent and for an agent that never answers', async () => {
  const healthy = await cli('healthcheck');
  assert.equal(healthy.code, 0, healthy.stderr);
  assert.match(healthy.stdout, /^healthy: agent at .* served bundles for spiffe:\/\/example\.org\n$/);

  const missing = await meshid(['healthcheck', '--socket', path.join(cwd, 'nothing-here.sock')], { cwd });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^unhealthy: no agent reachable at .*nothing-here\.sock.*\n$/);

  // A hung agent: the socket accepts connections and never speaks.
  const hungPath = path.join(cwd, 'hung.sock');
  const held: Socket[] = [];
  const hung: Server = createServer((socket) => held.push(socket));
  await new Promise<void>((resolve) => hung.listen(hungPath, resolve));
  try {
    const silent = await meshid(['healthcheck', '--socket', hungPath, '--timeout', '1s'], { cwd });
    assert.equal(silent.code, 1);
    assert.match(silent.stderr, /^unhealthy: agent at .*hung\.sock did not answer within 1s\n$/);
  } finally {
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => hung.close(resolve));
  }
  assert.equal((await meshid(['healthcheck', '--timeout', 'soon'], { cwd })).code, 2, 'a bad --timeout is a usage error');
});

test('healthcheck from a user no entry matches: exit 0, the agent answered (PERMISSION_DENIED) and is up', { skip: NOT_ROOT }, async () => {
  const run = promisify(execFile);
  const result = await run(process.execPath, [MESHID_MAIN, 'healthcheck', '--socket', harness.socketPath], { uid: 1002, gid: 1002, cwd: '/', timeout: 20_000 }).then(
    ({ stdout }) => ({ code: 0, stderr: '', stdout }),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match((result as { stdout?: string }).stdout ?? '', /^healthy: agent at .* answered \(this process is not registered, so it got no bundles: no identity issued/);
});

test('api watch: prints the current SVID at once, then each rotation, until interrupted (exit 0)', async () => {
  const child = spawn(process.execPath, [MESHID_MAIN, 'api', 'watch', '--socket', harness.socketPath, '--output', 'json'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    lines.push(...complete);
    for (const wake of waiters.splice(0)) wake();
  });
  // 'close', not 'exit': stdout has then been read to its end, so the line count below is final.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const line = async (index: number): Promise<{ svids: { spiffeId: string; serial: string; notAfter: string }[] }> => {
    const bound = Date.now() + 20_000;
    while (lines.length <= index) {
      if (Date.now() > bound || child.exitCode !== null) assert.fail(`no update ${index + 1} from api watch; stderr: ${stderr}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
    return JSON.parse(lines[index] ?? '') as { svids: { spiffeId: string; serial: string; notAfter: string }[] };
  };
  try {
    const first = await line(0);
    assert.deepEqual(first.svids.map((svid) => svid.spiffeId), [OPS]);
    await clock.advance(40 * 60_000); // past half-life (30m) plus the largest jitter (6m)
    const second = await line(1);
    assert.equal(second.svids[0]?.spiffeId, OPS);
    assert.notEqual(second.svids[0]?.serial, first.svids[0]?.serial, 'a rotated certificate');
    assert.ok(Date.parse(second.svids[0]?.notAfter ?? '') > Date.parse(first.svids[0]?.notAfter ?? ''));
    child.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    assert.equal(lines.length, 2, 'one line per update, nothing for an unchanged state');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
