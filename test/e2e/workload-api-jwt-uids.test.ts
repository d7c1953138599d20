import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { loadJose } from '../../src/jwt/jose';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { FakeClock } from '../support/fake-clock';
import { jwksKids, verifyWithJwks } from '../support/jwks-verify';
import { removeTempDirs } from '../support/temp-dir';
import { assertReadableBy, clientDependencies, fetchAs, NOT_ROOT, type WorkloadResult } from '../support/workload-process';

const TD = 'spiffe://example.org';
const WEB = 'spiffe://example.org/web';
const DB = 'spiffe://example.org/db';
const DB_ADMIN = 'spiffe://example.org/db-admin';

// Real client processes under uids 1000/1001/1002, speaking the test's own copy of the proto.
describe('JWT-SVIDs over the Workload API, one process per uid', { skip: NOT_ROOT }, () => {
  const clock = new FakeClock(Date.now());
  let harness: Harness;
  const as = (uid: number, rpc: 'jwt' | 'jwt-bundles' | 'validate', request: object = {}, header = true): Promise<WorkloadResult> => fetchAs(uid, harness.socketPath, { rpc, request, header });
  const jwksOf = async (uid = 1000): Promise<string> => {
    const result = await as(uid, 'jwt-bundles');
    assert.deepEqual(Object.keys(result.jwtBundles ?? {}), [TD], JSON.stringify(result));
    return result.jwtBundles?.[TD] ?? '';
  };

  before(async () => {
    for (const uid of [1000, 1001, 1002]) await assertReadableBy(uid, clientDependencies());
    harness = await startTestAgent(
      {
        entries: [
          { spiffeId: WEB, selectors: ['unix:uid:1000'], hint: 'internal' },
          { spiffeId: DB, selectors: ['unix:uid:1001'] },
          { spiffeId: DB_ADMIN, selectors: ['unix:uid:1001', 'unix:gid:1001'] },
        ],
      },
      clock,
    );
  });
  after(async () => {
    await harness?.agent.stop();
    await removeTempDirs();
  });

  test('FetchJWTSVID: each uid gets tokens for its own IDs; jose verifies them against the FetchJWTBundles JWKS', async () => {
    const [web, db, jwks] = await Promise.all([as(1000, 'jwt', { audience: ['vault', 'https://api.example.com'] }), as(1001, 'jwt', { audience: ['vault'] }), jwksOf(1001)]);
    assert.deepEqual(web.jwtSvids?.map((svid) => [svid.spiffeId, svid.hint]), [[WEB, 'internal']], JSON.stringify(web));
    assert.deepEqual(db.jwtSvids?.map((svid) => svid.spiffeId), [DB, DB_ADMIN], 'one token per matching entry, in entry order');
    for (const svid of [...(web.jwtSvids ?? []), ...(db.jwtSvids ?? [])]) {
      const { payload, header } = await verifyWithJwks(svid.svid, jwks, 'vault', new Date(clock.now()));
      assert.equal(payload.sub, svid.spiffeId);
      assert.equal(header.typ, 'JWT');
      assert.ok(jwksKids(jwks).includes(header.kid ?? ''), 'signed by a key the bundle lists');
      assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 300, 'default ttl 5m');
    }
    const webPayload = (await loadJose()).decodeJwt(web.jwtSvids?.[0]?.svid ?? '');
    assert.deepEqual(webPayload.aud, ['vault', 'https://api.example.com'], 'every requested audience, as an array');
  });

  test('spiffe_id picks one held ID; an ID not held is PERMISSION_DENIED; a malformed one INVALID_ARGUMENT', async () => {
    const [admin, notHeld, malformed] = await Promise.all([
      as(1001, 'jwt', { audience: ['vault'], spiffe_id: DB_ADMIN }),
      as(1001, 'jwt', { audience: ['vault'], spiffe_id: WEB }),
      as(1001, 'jwt', { audience: ['vault'], spiffe_id: 'spiffe://example.org/a/../b' }),
    ]);
    assert.deepEqual(admin.jwtSvids?.map((svid) => svid.spiffeId), [DB_ADMIN], JSON.stringify(admin));
    assert.equal(notHeld.code, status.PERMISSION_DENIED, JSON.stringify(notHeld));
    assert.match(notHeld.details ?? '', /spiffe:\/\/example\.org\/web/);
    assert.equal(malformed.code, status.INVALID_ARGUMENT, JSON.stringify(malformed));
  });

  test('required fields: no audience, and ValidateJWTSVID without audience or svid, are INVALID_ARGUMENT', async () => {
    const [noAudience, emptyAudience, validateNoAudience, validateNoSvid] = await Promise.all([
      as(1000, 'jwt', {}),
      as(1000, 'jwt', { audience: [''] }),
      as(1000, 'validate', { svid: 'x.y.z' }),
      as(1000, 'validate', { audience: 'vault' }),
    ]);
    assert.equal(noAudience.code, status.INVALID_ARGUMENT, JSON.stringify(noAudience));
    assert.equal(noAudience.details, 'audience is required');
    assert.equal(emptyAudience.code, status.INVALID_ARGUMENT, JSON.stringify(emptyAudience));
    assert.equal(validateNoAudience.code, status.INVALID_ARGUMENT);
    assert.equal(validateNoAudience.details, 'audience is required');
    assert.equal(validateNoSvid.code, status.INVALID_ARGUMENT);
    assert.equal(validateNoSvid.details, 'svid is required');
  });

  test('without the security header every JWT RPC is INVALID_ARGUMENT', async () => {
    const results = await Promise.all([as(1000, 'jwt', { audience: ['vault'] }, false), as(1000, 'jwt-bundles', {}, false), as(1000, 'validate', { audience: 'vault', svid: 'x.y.z' }, false)]);
    for (const result of results) {
      assert.equal(result.code, status.INVALID_ARGUMENT, JSON.stringify(result));
      assert.match(result.details ?? '', /workload\.spiffe\.io/);
    }
  });

  test('a uid with no entry is PERMISSION_DENIED on every JWT RPC, as on FetchX509Bundles', async () => {
    const token = (await as(1000, 'jwt', { audience: ['vault'] })).jwtSvids?.[0]?.svid ?? '';
    const results = await Promise.all([as(1002, 'jwt', { audience: ['vault'] }), as(1002, 'jwt-bundles'), as(1002, 'validate', { audience: 'vault', svid: token }), fetchAs(1002, harness.socketPath, { rpc: 'bundles' })]);
    for (const result of results) assert.equal(result.code, status.PERMISSION_DENIED, JSON.stringify(result));
  });

  test('ValidateJWTSVID: uid 1001 validates the token uid 1000 got; the claims come back as a Struct', async () => {
    const token = (await as(1000, 'jwt', { audience: ['vault', 'db'] })).jwtSvids?.[0]?.svid ?? '';
    const result = await as(1001, 'validate', { audience: 'db', svid: token });
    assert.equal(result.validated?.spiffeId, WEB, JSON.stringify(result));
    assert.deepEqual(result.validated?.claims, (await loadJose()).decodeJwt(token), 'every claim, with its JSON type');
  });

  test('rejected tokens: garbled, wrong audience, foreign key, alg none, then expired — INVALID_ARGUMENT each, and the agent keeps serving', async () => {
    const jose = await loadJose();
    const token = (await as(1000, 'jwt', { audience: ['vault'] })).jwtSvids?.[0]?.svid ?? '';
    const kid = jose.decodeProtectedHeader(token).kid ?? '';
    const foreign = await jose.generateKeyPair('ES256');
    const nowS = Math.floor(clock.now() / 1000);
    const claims = { sub: WEB, aud: ['vault'], iat: nowS, exp: nowS + 300 };
    const forged = await new jose.SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' }).sign(foreign.privateKey);
    const unsigned = new jose.UnsecuredJWT(claims).encode();
    const cases: [string, string, RegExp][] = [
      ['garbled', 'this is not a token', /well-formed/],
      ['truncated', token.slice(0, token.lastIndexOf('.')), /well-formed/],
      ['wrong audience', token, /audience/],
      ['foreign key with our kid', forged, /signature does not verify/],
      ['alg none', unsigned, /algorithm not allowed/],
    ];
    for (const [name, svid, reason] of cases) {
      const result = await as(1001, 'validate', { audience: name === 'wrong audience' ? 'not-vault' : 'vault', svid });
      assert.equal(result.code, status.INVALID_ARGUMENT, `${name}: ${JSON.stringify(result)}`);
      assert.match(result.details ?? '', reason, name);
    }
    assert.equal((await as(1001, 'validate', { audience: 'vault', svid: token })).validated?.spiffeId, WEB, 'still serving, and the good token is still good');

    await clock.advance(5 * 60_000);
    const expired = await as(1001, 'validate', { audience: 'vault', svid: token });
    assert.equal(expired.code, status.INVALID_ARGUMENT, JSON.stringify(expired));
    assert.match(expired.details ?? '', /expired/);
    assert.equal((await as(1000, 'jwt', { audience: ['vault'] })).jwtSvids?.length, 1, 'still serving after every refusal');
  });
});
