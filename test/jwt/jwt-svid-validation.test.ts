import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { before, test } from 'node:test';
import { isMeshidError } from '../../src/common/errors';
import { loadJose, type Jose, type JWTPayload } from '../../src/jwt/jose';
import { bundleKey, type JwtBundle } from '../../src/jwt/jwt-bundle';
import { validateJwtSvid } from '../../src/jwt/jwt-svid-validation';

// Tokens are made here with jose directly, so the validator is checked against tokens it did not
// shape itself, including ones a correct signer would never produce.
const NOW_S = Math.floor(Date.UTC(2026, 0, 1, 12) / 1000);
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ecKey = bundleKey(ec.publicKey, 'ES256');
const rsaKey = bundleKey(rsa.publicKey, 'RS256');
const bundle: JwtBundle = { trustDomain: 'example.org', version: 1, keys: [ecKey, rsaKey] };
let jose: Jose;
before(async () => {
  jose = await loadJose();
});

const claims = (overrides: JWTPayload = {}): JWTPayload => ({ sub: 'spiffe://example.org/web', aud: ['vault', 'db'], iat: NOW_S, exp: NOW_S + 300, ...overrides });

async function sign(payload: JWTPayload, options: { key?: KeyObject; alg?: string; kid?: string | undefined; typ?: string } = {}): Promise<string> {
  const header = { alg: options.alg ?? 'ES256', typ: options.typ ?? 'JWT', ...('kid' in options ? (options.kid === undefined ? {} : { kid: options.kid }) : { kid: ecKey.kid }) };
  return new jose.SignJWT(payload).setProtectedHeader(header).sign(options.key ?? ec.privateKey);
}

const validate = (token: string, audience = 'vault', nowS = NOW_S) => validateJwtSvid(token, audience, { bundle, nowMs: nowS * 1000, jose });

async function assertRejected(token: string, reason: RegExp, audience = 'vault', nowS = NOW_S): Promise<void> {
  await assert.rejects(validate(token, audience, nowS), (error) => {
    assert.ok(isMeshidError(error, 'INVALID_REQUEST'), String(error));
    assert.match(error.message, /^JWT-SVID rejected: /);
    assert.match(error.message, reason);
    for (const part of token.split('.')) if (part.length > 16) assert.ok(!error.message.includes(part), 'the token is never echoed');
    return true;
  });
}

test('a well-formed token: the SPIFFE ID and every claim come back', async () => {
  const result = await validate(await sign(claims({ extra: { nested: [1, 'two'] } })));
  assert.equal(result.spiffeId, 'spiffe://example.org/web');
  assert.deepEqual(result.claims, claims({ extra: { nested: [1, 'two'] } }));
  // A single-string aud (RFC 7519 allows it), typ JOSE or no typ, and an RSA key of the bundle.
  assert.equal((await validate(await sign(claims({ aud: 'vault' }), { typ: 'JOSE' }))).spiffeId, 'spiffe://example.org/web');
  assert.equal((await validate(await sign(claims(), { key: rsa.privateKey, alg: 'RS256', kid: rsaKey.kid }))).spiffeId, 'spiffe://example.org/web');
});

test('without a kid (optional, JWT-SVID spec §2.2) each bundle key of the header\'s algorithm is tried', async () => {
  // Two ES256 keys, as during a rotation: a token from either verifies without naming its key.
  const second = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rotating: JwtBundle = { ...bundle, keys: [ecKey, bundleKey(second.publicKey, 'ES256'), rsaKey] };
  for (const key of [ec.privateKey, second.privateKey]) {
    const token = await sign(claims(), { key, kid: undefined });
    assert.equal((await validateJwtSvid(token, 'vault', { bundle: rotating, nowMs: NOW_S * 1000, jose })).spiffeId, 'spiffe://example.org/web');
  }
  // An expired token is reported as expired, not as a signature failure of the other key.
  const expired = await sign(claims(), { key: second.privateKey, kid: undefined });
  await assert.rejects(validateJwtSvid(expired, 'vault', { bundle: rotating, nowMs: (NOW_S + 600) * 1000, jose }), /token has expired/);
});

test('garbled tokens', async () => {
  const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: ecKey.kid })).toString('base64url');
  const validToken = await sign(claims());
  // A correctly signed JWS whose payload is not a JSON object: the signature alone proves nothing.
  const signedNonsense = await new jose.CompactSign(Buffer.from('not json')).setProtectedHeader({ alg: 'ES256', kid: ecKey.kid }).sign(ec.privateKey);
  const cases: [string, RegExp][] = [
    ['x', /not a well-formed JWS/],
    ['a.b.c', /not a well-formed JWS/],
    [`${header}.bm90IGpzb24.c2ln`, /signature does not verify/],
    [`${validToken.slice(0, -4)}AAAA`, /signature does not verify/],
    [validToken.replace('.', '..'), /not a well-formed JWS/],
    [signedNonsense, /not a well-formed JWT/],
  ];
  for (const [garbled, reason] of cases) await assertRejected(garbled, reason);
});

test('audience, expiry and not-before', async () => {
  await assertRejected(await sign(claims()), /audience not in the token's "aud"/, 'someone-else');
  await assertRejected(await sign(claims()), /expired/, 'vault', NOW_S + 300);
  assert.equal((await validate(await sign(claims()), 'vault', NOW_S + 299)).spiffeId, 'spiffe://example.org/web', 'one second before exp it is valid');
  await assertRejected(await sign(claims({ nbf: NOW_S + 60 })), /"nbf"/);
  await assertRejected(await sign(claims({ exp: undefined })), /required claim "exp" is missing/);
  await assertRejected(await sign(claims({ aud: undefined })), /"aud"/);
});

test('keys and algorithms: foreign key, unknown kid, foreign key without kid, alg mismatch, none, HS256', async () => {
  const foreign = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await assertRejected(await sign(claims(), { key: foreign.privateKey }), /signature does not verify/);
  await assertRejected(await sign(claims(), { key: foreign.privateKey, kid: bundleKey(foreign.publicKey, 'ES256').kid }), /not in the example\.org JWT bundle/);
  await assertRejected(await sign(claims(), { key: foreign.privateKey, kid: undefined }), /signature does not verify/);
  await assertRejected(await sign(claims(), { key: rsa.privateKey, alg: 'PS256', kid: undefined }), /no key of the example\.org JWT bundle uses "alg" PS256/);
  await assertRejected(await sign(claims(), { key: rsa.privateKey, alg: 'PS256', kid: rsaKey.kid }), /"alg" PS256 does not match key .*RS256/);
  await assertRejected(new jose.UnsecuredJWT(claims()).encode(), /algorithm not allowed/);
  await assertRejected(await new jose.SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: ecKey.kid }).sign(Buffer.alloc(32, 1)), /algorithm not allowed/);
});

test('the subject must be a workload SPIFFE ID of this trust domain; typ, if present, JWT or JOSE', async () => {
  await assertRejected(await sign(claims({ sub: 'spiffe://other.org/web' })), /not in trust domain example\.org/);
  await assertRejected(await sign(claims({ sub: 'spiffe://example.org' })), /names the trust domain/);
  await assertRejected(await sign(claims({ sub: 'https://example.org/web' })), /not a SPIFFE ID/);
  await assertRejected(await sign(claims({ sub: undefined })), /required claim "sub" is missing/);
  await assertRejected(await sign(claims(), { typ: 'at+jwt' }), /"typ"/);
});
