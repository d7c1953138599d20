import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { loadJose } from '../../src/jwt/jose';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { FakeClock } from '../support/fake-clock';
import { jwksKids, verifyWithJwks } from '../support/jwks-verify';
import { removeTempDirs } from '../support/temp-dir';
import { callUnary, securityHeader, StreamReader, workloadClient, type JwtBundlesResponse } from '../support/workload-client';

// The agent in this process on a fake clock; the client speaks the test's own copy of the proto.
const MINUTE = 60_000;
const TD = 'spiffe://example.org';
const ID = 'spiffe://example.org/runner';
const uid = process.getuid?.() ?? 0;
const start = Date.UTC(2026, 0, 1);
const clock = new FakeClock(start);
let harness: Harness;
let client: ReturnType<typeof workloadClient>;

before(async () => {
  harness = await startTestAgent({ jwt: { keyTtl: '1h', ttl: '5m' }, entries: [{ spiffeId: ID, selectors: [`unix:uid:${uid}`] }] }, clock);
  client = workloadClient(harness.socketPath);
});
after(async () => {
  client?.close();
  await harness?.agent.stop();
  await removeTempDirs();
});

const at = (minutes: number): Promise<void> => clock.advance(start + minutes * MINUTE - clock.now());
const fetchToken = async (): Promise<string> => (await callUnary(client.FetchJWTSVID, client, { audience: ['vault'] }, securityHeader())).svids[0]?.svid ?? '';
const kidOf = async (token: string): Promise<string> => (await loadJose()).decodeProtectedHeader(token).kid ?? '';
const validate = (svid: string) => callUnary(client.ValidateJWTSVID, client, { audience: 'vault', svid }, securityHeader());

// FetchJWTBundles takes no requests, so no marker can be sent on it: where nothing must have been
// pushed, the next change on the schedule is the marker. Each is checked to be that change, so a
// message sent before it would be taken instead and fail the check.
test('key rotation as FetchJWTBundles streams it: published before use, kept until its tokens expire, each change pushed once', async () => {
  const reader = new StreamReader<JwtBundlesResponse>(client.FetchJWTBundles({}, securityHeader()));
  try {
    const first = await reader.next();
    assert.deepEqual(Object.keys(first.bundles), [TD]);
    const [k1] = jwksKids(first.bundles[TD] ?? '');
    assert.ok(k1);
    assert.equal(await kidOf(await fetchToken()), k1);

    await at(50); // key ttl 1h, prepublish 1h/6: the successor is published at 50m
    const published = await reader.next();
    const [, k2] = jwksKids(published.bundles[TD] ?? '');
    assert.deepEqual(jwksKids(published.bundles[TD] ?? ''), [k1, k2]);
    assert.equal(await kidOf(await fetchToken()), k1, 'published, not yet signing');

    await at(59);
    const lastOfK1 = await fetchToken(); // expires at 64m
    assert.equal(await kidOf(lastOfK1), k1);
    await at(60);
    const fromK2 = await fetchToken();
    assert.equal(await kidOf(fromK2), k2, 'the successor signs from 60m');

    // Both tokens verify against the bundle the stream last delivered, by jose and by the agent.
    for (const token of [lastOfK1, fromK2]) {
      await verifyWithJwks(token, published.bundles[TD] ?? '', 'vault', new Date(clock.now()));
      assert.equal((await validate(token)).spiffe_id, ID);
    }

    await at(64);
    const retired = await reader.next();
    assert.deepEqual(jwksKids(retired.bundles[TD] ?? ''), [k2], 'k1 leaves once its last token expired (and a change of signer alone at 60m was no bundle change)');
    await assert.rejects(validate(lastOfK1), (error: { code?: number; details?: string }) => error.code === status.INVALID_ARGUMENT && /JWT-SVID rejected/.test(error.details ?? ''));
    assert.equal((await validate(fromK2)).spiffe_id, ID);

    // k2's successor is published at 110m and signs from 120m, when k2 (its last token expired at 65m) leaves.
    await at(110);
    const successor = jwksKids((await reader.next()).bundles[TD] ?? '');
    const k3 = successor[1];
    assert.ok(successor.length === 2 && successor[0] === k2 && k3 !== undefined && k3 !== k2, `the next message is the next change, so the retirement was pushed once: ${successor.join()}`);
    await at(120);
    assert.deepEqual(jwksKids((await reader.next()).bundles[TD] ?? ''), [k3]);
  } finally {
    reader.call.cancel();
  }
});

test('a new FetchJWTBundles stream gets the current bundle at once', async () => {
  const reader = new StreamReader<JwtBundlesResponse>(client.FetchJWTBundles({}, securityHeader()));
  try {
    const current = await reader.next();
    assert.equal(jwksKids(current.bundles[TD] ?? '').length, 1);
    const document = JSON.parse(current.bundles[TD]?.toString() ?? '') as { keys: Record<string, string>[] };
    assert.deepEqual(Object.keys(document), ['keys'], 'a plain JWKS document');
    assert.deepEqual(Object.keys(document.keys[0] ?? {}).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
  } finally {
    reader.call.cancel();
  }
});
