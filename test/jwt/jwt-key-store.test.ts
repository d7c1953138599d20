import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { isMeshidError } from '../../src/common/errors';
import { JwtAuthority } from '../../src/jwt/jwt-authority';
import { JWT_KEYS_FILE, JwtKeyFile } from '../../src/jwt/jwt-key-store';
import { FakeClock } from '../support/fake-clock';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { until } from '../support/until';

const MINUTE = 60_000;
const logger = pino({ level: 'silent' });
const WEB = 'spiffe://example.org/web';

after(removeTempDirs);

/** An authority as the agent builds it (key ttl 60m, prepublish 10m), keeping its keys in `dataDir`. */
async function started(clock: FakeClock, dataDir: string, jwtTtlMs = 5 * MINUTE): Promise<JwtAuthority> {
  const authority = new JwtAuthority({ trustDomain: 'example.org', algorithm: 'ES256', jwtTtlMs, keyTtlMs: 60 * MINUTE, clock, logger, random: () => 0.5, store: new JwtKeyFile(dataDir, 0o700) });
  await authority.start();
  return authority;
}

const kids = (authority: JwtAuthority): string[] => authority.bundle.keys.map((key) => key.kid);
const storedKids = async (dataDir: string): Promise<number> => ((JSON.parse(await readFile(path.join(dataDir, JWT_KEYS_FILE), 'utf8')) as { keys: unknown[] }).keys.length);

describe('JWT signing keys kept in dataDir across restarts', () => {
  test('a token minted before a restart validates after it until it expires; the same key goes on signing; the file is 0600 and written atomically', async () => {
    const dataDir = path.join(await makeTempDir('meshid-jwt-store-'), 'data');
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const before = await started(clock, dataDir);
    const token = await before.sign(WEB, ['vault']);
    before.stop();

    assert.equal((await stat(path.join(dataDir, JWT_KEYS_FILE))).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dataDir), [JWT_KEYS_FILE], 'no temp file left');
    await clock.advance(MINUTE);
    const restarted = await started(clock, dataDir);
    try {
      assert.deepEqual(kids(restarted), [token.kid], 'the stored key is the bundle');
      const validated = await restarted.validate(token.token, 'vault');
      assert.equal(validated.spiffeId, WEB);
      assert.equal((await restarted.sign(WEB, ['vault'])).kid, token.kid, 'the active key keeps signing');
      await clock.advance(5 * MINUTE);
      await assert.rejects(restarted.validate(token.token, 'vault'), /expired|exp/i, 'until it expires');
    } finally {
      restarted.stop();
    }
  });

  test('a restart mid key rotation keeps the schedule: the stored successor takes over on time, the old key stays until its tokens expired, then leaves the file', async () => {
    const dataDir = path.join(await makeTempDir('meshid-jwt-store-'), 'data');
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const first = await started(clock, dataDir);
    const k1 = first.bundle.keys[0]?.kid;
    await clock.advance(50 * MINUTE); // the successor is published (and saved) 10m before it signs
    await until(() => first.bundle.keys.length === 2, 'the successor saved (real file I/O) and published');
    const k2 = first.bundle.keys[1]?.kid;
    assert.equal(await storedKids(dataDir), 2, 'the successor was saved before it was published');
    await clock.advance(9 * MINUTE);
    const late = await first.sign(WEB, ['db']); // k1's last token, expiring at 64m
    first.stop();

    await clock.advance(2 * MINUTE); // restarted at 61m: k2 signs since 60m
    const second = await started(clock, dataDir);
    try {
      assert.deepEqual(kids(second), [k1, k2]);
      assert.equal((await second.sign(WEB, ['db'])).kid, k2, 'the successor is the active key');
      assert.equal((await second.validate(late.token, 'db')).spiffeId, WEB, "the old key's token still validates");
      await clock.advance(5 * MINUTE); // 66m: past 61m + the 5m token lifetime
      assert.deepEqual(kids(second), [k2], 'the old key retired once its tokens can have expired');
      await second.settled();
      assert.equal(await storedKids(dataDir), 1, 'and its private key left the file');
    } finally {
      second.stop();
    }
  });

  test('a restart after every stored key expired starts a new key and prunes the old ones', async () => {
    const dataDir = path.join(await makeTempDir('meshid-jwt-store-'), 'data');
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const first = await started(clock, dataDir);
    const k1 = first.bundle.keys[0]?.kid;
    first.stop();
    await clock.advance(3 * 60 * MINUTE);
    const second = await started(clock, dataDir);
    try {
      assert.equal(second.bundle.keys.length, 1);
      assert.notEqual(second.bundle.keys[0]?.kid, k1);
      assert.equal(await storedKids(dataDir), 1);
    } finally {
      second.stop();
    }
  });

  test('a longer jwt.ttl before the restart is honoured: the old key stays until tokens signed under it can have expired', async () => {
    const dataDir = path.join(await makeTempDir('meshid-jwt-store-'), 'data');
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const first = await started(clock, dataDir, 20 * MINUTE);
    await clock.advance(59 * MINUTE);
    const late = await first.sign(WEB, ['db']); // expires at 79m
    first.stop();
    await clock.advance(2 * MINUTE);
    const second = await started(clock, dataDir, 5 * MINUTE); // 61m, now with 5m tokens
    try {
      await clock.advance(10 * MINUTE); // 71m: a 5m assumption would have retired the old key at 66m
      assert.equal((await second.validate(late.token, 'db')).spiffeId, WEB);
      await clock.advance(10 * MINUTE);
      assert.equal(second.bundle.keys.length, 1, 'gone after 61m + 20m');
    } finally {
      second.stop();
    }
  });

  test('a key file meshid did not write is refused, not replaced', async () => {
    const dataDir = await makeTempDir('meshid-jwt-store-');
    await writeFile(path.join(dataDir, JWT_KEYS_FILE), '{"keys": "not mine"}', { mode: 0o600 });
    await assert.rejects(started(new FakeClock(), dataDir), (error: unknown) => isMeshidError(error, 'INVALID_CONFIG') && /jwt-keys\.json is not a key file meshid wrote/.test(error.message));
    assert.equal(await readFile(path.join(dataDir, JWT_KEYS_FILE), 'utf8'), '{"keys": "not mine"}');
  });

  test('a key file that is not JSON is refused without quoting its content (it holds private keys)', async () => {
    const dataDir = await makeTempDir('meshid-jwt-store-');
    const torn = '{"version":1,"keys":[{"privateKeyPem":MIGHAgEAMBMGByqGSM49AgEGCCqGSM49'; // V8 would quote ..."teKeyPem":MIGHAgEAMB"...
    await writeFile(path.join(dataDir, JWT_KEYS_FILE), torn, { mode: 0o600 });
    await assert.rejects(started(new FakeClock(), dataDir), (error: unknown) => isMeshidError(error, 'INVALID_CONFIG') && /is not a key file meshid wrote \(not valid JSON\)/.test(error.message) && !/PRIVATE|MIGH|privateKeyPem/.test(error.message));
  });
});
