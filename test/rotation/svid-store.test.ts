import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import pino from 'pino';
import { parseConfig } from '../../src/agent/config/load';
import { NodeCa } from '../../src/rotation/node-ca';
import { SvidStore, type StoreChange } from '../../src/rotation/svid-store';
import { loadConfiguredUpstream } from '../../src/agent/configured-upstream';
import type { UpstreamAuthority } from '../../src/upstream/upstream-authority';
import { isMeshidError } from '../../src/common/errors';
import { FakeClock } from '../support/fake-clock';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';

after(removeTempDirs);
const MINUTE = 60_000;
const logger = pino({ level: 'silent' });
const entry = { spiffeId: 'spiffe://example.org/web', selectors: ['unix:uid:1000'], dnsNames: [] };

/** A real self-signed upstream whose signer can be made to fail, as an unreachable CA would. */
async function setup(clock: FakeClock, svidTtl = '1h'): Promise<{ store: SvidStore; ca: NodeCa; upstreamDown: (down: boolean) => void }> {
  const dir = await makeTempDir('meshid-store-');
  const config = parseConfig({ trustDomain: 'example.org', dataDir: path.join(dir, 'data'), socketPath: path.join(dir, 'a.sock'), svid: { ttl: svidTtl }, ca: { ttl: '3h' } }, { baseDir: dir });
  const real = await loadConfiguredUpstream(config, new Date(clock.now()));
  let down = false;
  const upstream: UpstreamAuthority = { ...real, signer: { ...real.signer, sign: (tbs) => (down ? Promise.reject(new Error('upstream unreachable')) : real.signer.sign(tbs)) } };
  const ca = new NodeCa({ upstream, trustDomain: 'example.org', caTtlMs: config.ca.ttlMs, leafKeyType: 'ec-p256', clock, logger, random: () => 0.5 });
  await ca.start();
  const store = new SvidStore({ ca, svidTtlMs: config.svid.ttlMs, clock, logger, random: () => 0.5 });
  return { store, ca, upstreamDown: (value) => (down = value) };
}

test('an SVID is re-minted with a new key at half-life and subscribers hear of it', async () => {
  const clock = new FakeClock(Date.now());
  const { store, ca } = await setup(clock);
  const changes: StoreChange[] = [];
  store.subscribe((change) => changes.push(change));
  const first = await store.get(entry);
  assert.equal(await store.get(entry), first, 'served from the store until rotation');

  await clock.advance(29 * MINUTE);
  assert.equal(await store.get(entry), first, 'not yet: half-life is 30m after issuance (jitter 0 with random 0.5)');
  await clock.advance(2 * MINUTE);
  await store.settled(); // signing runs on the thread pool in real time: the re-mint the timer started is over
  const second = await store.get(entry);
  assert.notEqual(second.serialHex, first.serialHex);
  assert.ok(!second.privateKeyPkcs8Der.equals(first.privateKeyPkcs8Der), 'fresh key');
  const change = { kind: 'svid', spiffeId: entry.spiffeId };
  assert.deepEqual(changes, [change, change], 'subscribers heard of the first SVID and of its rotation, once each');
  store.stop();
  ca.stop();
});

// Found with go-spiffe (test/interop/go-spiffe.test.ts): with svid.ttl 10s the half-life was
// counted from the notBefore backdated by 10 s, so SVIDs were re-minted about every second.
test('the half-life counts from issuance, not from the backdated notBefore: svid.ttl 10s rotates after 5 s', async () => {
  const clock = new FakeClock(Date.now());
  const { store, ca } = await setup(clock, '10s');
  const first = await store.get(entry);
  assert.equal(first.rotateAtMs, clock.now() + 5_000, 'issued now, notAfter now + 10 s, jitter 0');
  await clock.advance(4_900);
  assert.equal(await store.get(entry), first, 'not rotated before half its lifetime');
  store.stop();
  ca.stop();
});

test('with the upstream down, valid SVIDs keep being served and an expired one never is', async () => {
  const clock = new FakeClock(Date.now());
  const { store, ca, upstreamDown } = await setup(clock);
  await store.get(entry);
  upstreamDown(true);

  // The intermediate (3h) wants to rotate at 1h30m and cannot; leaves keep rotating under it.
  for (let elapsed = 0; elapsed < 170; elapsed += 10) {
    await clock.advance(10 * MINUTE);
    const svid = await store.get(entry);
    assert.ok(svid.notAfterMs > clock.now(), `served SVID is valid at +${elapsed + 10}m`);
  }
  // Past the intermediate's notAfter nothing can be minted, and nothing expired is served.
  await clock.advance(30 * MINUTE);
  await assert.rejects(store.get(entry), (error) => isMeshidError(error, 'NOT_READY') && /no valid SVID for spiffe:\/\/example\.org\/web: its signing CA has expired/.test(error.message));

  upstreamDown(false);
  const rotated = new Promise((resolve) => ca.onRotate(resolve));
  await clock.advance(2 * MINUTE); // the intermediate's retry with backoff fires within this
  await rotated; // minting runs on the thread pool, in real time: wait for the CA's own hook
  const recovered = await store.get(entry);
  assert.ok(recovered.notAfterMs > clock.now());
  store.stop();
  ca.stop();
});
