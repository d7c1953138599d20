import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import { isMeshidError } from '../../src/common/errors';
import { loadJose, type JWK } from '../../src/jwt/jose';
import { JWT_ALGORITHMS, generateJwtKeyPair, type JwtAlgorithm, type JwtKeyPair } from '../../src/jwt/jwt-algorithm';
import { JwtAuthority } from '../../src/jwt/jwt-authority';
import { jwksDocument, type JwtBundle } from '../../src/jwt/jwt-bundle';
import { FakeClock } from '../support/fake-clock';
import { jwksKids, verifyWithJwks } from '../support/jwks-verify';

const MINUTE = 60_000;
const logger = pino({ level: 'silent' });
const WEB = 'spiffe://example.org/web';

async function started(clock: FakeClock, options: { algorithm?: JwtAlgorithm; keyTtlMs?: number; generateKeyPair?: (algorithm: JwtAlgorithm) => Promise<JwtKeyPair> } = {}): Promise<JwtAuthority> {
  const authority = new JwtAuthority({ trustDomain: 'example.org', algorithm: options.algorithm ?? 'ES256', jwtTtlMs: 5 * MINUTE, keyTtlMs: options.keyTtlMs ?? 60 * MINUTE, clock, logger, random: () => 0.5, generateKeyPair: options.generateKeyPair });
  await authority.start();
  return authority;
}

const kidOf = (token: string): string => (JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as { kid: string }).kid;

describe('JWT-SVID signing', () => {
  for (const algorithm of JWT_ALGORITHMS) {
    test(`${algorithm}: header and claims as the JWT-SVID spec requires; jose verifies it against the bundle`, async () => {
      const clock = new FakeClock(Date.UTC(2026, 0, 1, 12, 0, 0, 250));
      const authority = await started(clock, { algorithm });
      try {
        const svid = await authority.sign(WEB, ['https://api.example.com', 'vault']);
        const { payload, header } = await verifyWithJwks(svid.token, jwksDocument(authority.bundle), 'vault', new Date(clock.now()));
        assert.deepEqual(header, { alg: algorithm, kid: svid.kid, typ: 'JWT' });
        assert.equal(payload.sub, WEB);
        assert.deepEqual(payload.aud, ['https://api.example.com', 'vault'], 'aud is always an array');
        assert.equal(payload.iat, Math.floor(clock.now() / 1000));
        assert.equal(payload.exp, (payload.iat ?? 0) + 300, 'exp = iat + jwt ttl (5m)');
        assert.equal(svid.expiresAtMs, (payload.exp ?? 0) * 1000);

        // The kid is the RFC 7638 thumbprint, as jose computes it from the served JWK.
        const jose = await loadJose();
        const [jwk] = JSON.parse(jwksDocument(authority.bundle).toString()).keys as JWK[];
        assert.ok(jwk);
        assert.equal(await jose.calculateJwkThumbprint(jwk), svid.kid);
        assert.equal(jwk.alg, algorithm);
        assert.equal(jwk.d, undefined, 'no private parameter is ever published');
        if (algorithm.startsWith('ES')) assert.equal(jwk.crv, algorithm === 'ES256' ? 'P-256' : 'P-384');
        else assert.equal(Buffer.from(jwk.n ?? '', 'base64url').length, 256, 'RSA-2048');
      } finally {
        authority.stop();
      }
    });
  }

  test('refuses an ID of another trust domain, the trust domain itself, a malformed ID and an empty audience', async () => {
    const authority = await started(new FakeClock());
    try {
      for (const [id, audience] of [['spiffe://other.org/web', ['a']], ['spiffe://example.org', ['a']], ['spiffe://example.org/../x', ['a']], [WEB, []]] as const) {
        await assert.rejects(authority.sign(id, audience), (error) => isMeshidError(error) && /audience|trust domain|SPIFFE ID/.test(error.message), `${id} ${JSON.stringify(audience)}`);
      }
    } finally {
      authority.stop();
    }
  });
});

describe('JWT key rotation on a fake clock (key ttl 60m, prepublish 10m, token ttl 5m)', () => {
  test('the successor is published 10m before it signs; the old key stays until its last token expired; one notification per change', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const authority = await started(clock);
    const bundles: JwtBundle[] = [];
    authority.subscribe((bundle) => bundles.push(bundle));
    try {
      const k1 = (await authority.sign(WEB, ['a'])).kid;
      assert.deepEqual(authority.bundle.keys.map((key) => key.kid), [k1]);

      await clock.advance(50 * MINUTE - 1);
      assert.equal(bundles.length, 0, 'nothing changes before the successor is due');
      await clock.advance(1);
      assert.equal(bundles.length, 1, 'publishing the successor is one change');
      const [, k2] = bundles[0]?.keys.map((key) => key.kid) ?? [];
      assert.ok(k2 && k2 !== k1);
      assert.deepEqual(jwksKids(jwksDocument(authority.bundle)), [k1, k2], 'the served JWKS has both');
      assert.equal((await authority.sign(WEB, ['a'])).kid, k1, 'published is not yet signing');

      await clock.advance(10 * MINUTE - 1); // t = 59m59.999s: the last token the old key signs
      const last = await authority.sign(WEB, ['a']);
      assert.equal(kidOf(last.token), k1, 'until 60m the old key signs');
      await clock.advance(1); // t = 60m
      assert.equal(kidOf((await authority.sign(WEB, ['a'])).token), k2, 'from 60m the successor signs');
      assert.equal(bundles.length, 1, 'a change of signer alone does not change the bundle');

      // That last token expires at 64m59s (exp is in whole seconds): the old key stays until then.
      assert.equal(last.expiresAtMs, Date.UTC(2026, 0, 1) + 64 * MINUTE + 59_000);
      await clock.advance(last.expiresAtMs - clock.now() - 1);
      assert.equal((await authority.validate(last.token, 'a')).spiffeId, WEB, 'the old key is still trusted while its tokens live');
      assert.deepEqual(authority.bundle.keys.map((key) => key.kid), [k1, k2]);
      assert.equal(bundles.length, 1);
      await clock.advance(1);
      assert.equal(bundles.length, 2, 'retiring the old key is one change');
      assert.deepEqual(authority.bundle.keys.map((key) => key.kid), [k2]);
      await assert.rejects(authority.validate(last.token, 'a'), /JWT-SVID rejected/);

      // The next rotation follows the same rules, from the successor's start (60m): publish at 110m.
      await authority.settled();
      await clock.advance(110 * MINUTE - (clock.now() - Date.UTC(2026, 0, 1)) - 1);
      assert.equal(bundles.length, 2);
      await clock.advance(1);
      assert.equal(bundles.length, 3);
      assert.equal(authority.bundle.keys.length, 2);
      assert.deepEqual(bundles.map((bundle) => bundle.version), [2, 3, 4], 'versions increase by one per change');
    } finally {
      authority.stop();
    }
  });

  test('a key that signed nothing leaves the bundle when its successor starts signing', async () => {
    const clock = new FakeClock();
    const authority = await started(clock);
    try {
      const [k1] = authority.bundle.keys.map((key) => key.kid);
      await clock.advance(50 * MINUTE);
      assert.equal(authority.bundle.keys.length, 2);
      await clock.advance(10 * MINUTE);
      assert.deepEqual(authority.bundle.keys.map((key) => key.kid).includes(k1 ?? ''), false);
      assert.equal(authority.bundle.keys.length, 1);
    } finally {
      authority.stop();
    }
  });

  test('when no successor can be generated, the key goes on signing with expiry capped at its notAfter, then refuses; recovery publishes one', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    let failing = false;
    const generate = (algorithm: JwtAlgorithm): Promise<JwtKeyPair> => (failing ? Promise.reject(new Error('entropy source gone')) : generateJwtKeyPair(algorithm));
    const authority = await started(clock, { generateKeyPair: generate });
    try {
      failing = true;
      await clock.advance(50 * MINUTE); // publishes the spare made at start, then fails to make another
      await authority.settled();
      await clock.advance(10 * MINUTE); // k2 signs from 60m, is due to hand over at 120m, notAfter 125m
      const k2 = authority.bundle.keys.at(-1)?.kid;
      await clock.advance(62 * MINUTE); // t = 122m: retries keep failing
      const capped = await authority.sign(WEB, ['a']);
      assert.equal(capped.kid, k2);
      assert.equal(capped.expiresAtMs, Date.UTC(2026, 0, 1) + 125 * MINUTE, 'exp capped at the key notAfter, not 127m');
      await clock.advance(3 * MINUTE); // t = 125m
      await assert.rejects(authority.sign(WEB, ['a']), (error) => isMeshidError(error, 'NOT_READY'));

      failing = false;
      await clock.advance(2 * MINUTE); // the backoff (at most 60s) retries and succeeds
      await authority.settled();
      assert.equal(authority.bundle.keys.length, 2, 'a successor is published');
      const k3 = authority.bundle.keys.at(-1)?.kid;
      await assert.rejects(authority.sign(WEB, ['a']), (error) => isMeshidError(error, 'NOT_READY'), 'still prepublished, not signing');
      await clock.advance(10 * MINUTE);
      assert.equal((await authority.sign(WEB, ['a'])).kid, k3);
    } finally {
      authority.stop();
    }
  });

  test('stop cancels every timer', async () => {
    const clock = new FakeClock();
    const authority = await started(clock);
    await clock.advance(50 * MINUTE);
    assert.ok(clock.pendingTimers > 0);
    authority.stop();
    assert.equal(clock.pendingTimers, 0);
  });
});
