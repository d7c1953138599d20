import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { FakeClock } from '../support/fake-clock';
import { chainsTo, eventually, HandshakeTraffic, requestRotation, rotationStatus, StreamedWorkload } from '../support/rotation-traffic';
import { removeTempDirs } from '../support/temp-dir';
import { scrapeMetric } from '../support/prometheus';

const MINUTE = 60_000;
const WEB = 'spiffe://example.org/web';
const DB = 'spiffe://example.org/db';
// Both entries match this test process (uid 0 in CI); each workload uses its own stream and ID.
const ENTRIES = [
  { spiffeId: WEB, selectors: ['unix:uid:0'] },
  { spiffeId: DB, selectors: ['unix:uid:0', 'unix:gid:0'] },
];
const NOT_ROOT = process.getuid?.() !== 0 ? 'needs uid 0 (the entries select it)' : false;

after(removeTempDirs);

describe('zero failed handshakes across a full root rotation (self-signed upstream, admin trigger)', { skip: NOT_ROOT }, () => {
  // Certificates are minted on the fake clock and checked by TLS on the real one. Timeline with
  // 1h SVIDs and no jitter (random 0.5), R = real now: start at R-45m (old leaves valid to
  // R+15m); switch at R-40m (new leaves), re-minted at R-10m (valid to R+50m); the old roots drop
  // when the old leaves expire, at R+15m; the next re-mint would be at R+20m. Every certificate
  // served is valid in real time throughout, and nothing is minted with a notBefore in the future.
  const clock = new FakeClock(Date.now() - 45 * MINUTE);
  let harness: Harness;
  let web: StreamedWorkload;
  let db: StreamedWorkload;
  let traffic: HandshakeTraffic | undefined;

  after(async () => {
    await traffic?.stop();
    web?.close();
    db?.close();
    await harness?.agent.stop();
  });

  it('publishes, switches, drops; every handshake succeeds; both end on the new root alone', async () => {
    harness = await startTestAgent({ svid: { ttl: '1h' }, ca: { ttl: '24h', rotationPropagationDelay: '5m' }, entries: ENTRIES }, clock, { random: () => 0.5 });
    const admin = harness.agent.adminAddress ?? '';
    web = new StreamedWorkload(harness.socketPath, WEB);
    db = new StreamedWorkload(harness.socketPath, DB);
    await eventually(() => web.ready && db.ready, 'both workloads to receive their SVIDs');
    const [oldRoot] = web.roots;
    assert.ok(oldRoot);
    assert.equal(web.roots.length, 1);
    traffic = new HandshakeTraffic(web, db);
    await traffic.atLeast(10);

    // 1) publish: both bundles carry the old and the new root; SVIDs still chain to the old one.
    const started = await requestRotation(admin);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.equal(started.body.phase, 'publishing');
    assert.equal(await scrapeMetric(admin, 'meshid_ca_rotation_phase{phase="publishing"}'), 1);
    await eventually(() => web.roots.length === 2 && db.roots.length === 2, 'old + new roots in both bundles');
    const newRoot = web.roots.find((root) => root !== oldRoot) ?? '';
    assert.ok(chainsTo(web.chain, oldRoot) && chainsTo(db.chain, oldRoot), 'no switch before the propagation delay');
    const again = await requestRotation(admin);
    assert.equal(again.status, 409, 'a second rotation is refused while one is in progress');
    assert.match(again.body.error ?? '', /already in progress/);
    await traffic.atLeast(10);

    // 2)+3) after the propagation delay: the node intermediate and every SVID move to the new root.
    await clock.advance(5 * MINUTE);
    await eventually(() => chainsTo(web.chain, newRoot) && chainsTo(db.chain, newRoot), 'both SVIDs re-minted under the new root');
    assert.equal(web.roots.length, 2, 'the old root is still trusted while old leaves may be in use');
    let switched = await rotationStatus(admin);
    await eventually(async () => (switched = await rotationStatus(admin)).phase === 'switched', 'the switched phase');
    assert.equal(Date.parse(switched.dropAt ?? ''), clock.now() - 5 * MINUTE + 60 * MINUTE, 'the drop waits for the last leaf under the old root');
    await traffic.atLeast(10);

    // 4) drop: once the old leaves have expired, bundles carry the new root alone.
    await clock.advance(Date.parse(switched.dropAt ?? '') - clock.now());
    await eventually(() => web.roots.length === 1 && db.roots.length === 1, 'the old root dropped from both bundles');
    await traffic.atLeast(10);
    await traffic.stop();

    assert.deepEqual(traffic.failures, [], `${traffic.succeeded} handshakes succeeded`);
    assert.deepEqual(web.roots, [newRoot]);
    assert.deepEqual(db.roots, [newRoot]);
    assert.notEqual(newRoot, oldRoot);
    for (const workload of [web, db]) {
      assert.ok(chainsTo(workload.chain, newRoot), `${workload.spiffeId} presents a chain to the new root`);
      assert.ok(!chainsTo(workload.chain, oldRoot));
    }
    let done = await rotationStatus(admin);
    await eventually(async () => (done = await rotationStatus(admin)).phase === 'idle', 'the rotation to complete');
    assert.equal(done.completedRotations, 1);
    assert.equal(await scrapeMetric(admin, 'meshid_ca_root_rotations_total'), 1);
    assert.equal(await scrapeMetric(admin, 'meshid_ca_rotation_phase{phase="idle"}'), 1);

    // Persisted: the new root is the one a restart loads; the retired one is gone.
    const dataDir = path.join(harness.dir, 'data');
    const onDisk = new X509Certificate(await readFile(path.join(dataDir, 'upstream-ca.pem')));
    assert.equal(onDisk.fingerprint256, new X509Certificate(newRoot).fingerprint256);
    await assert.rejects(access(path.join(dataDir, 'upstream-ca.retired.pem')), { code: 'ENOENT' }, 'the retired root file is removed after the drop');
    await assert.rejects(access(path.join(dataDir, 'upstream-ca.next.pem')), { code: 'ENOENT' }, 'no root is staged');
  });
});

describe('zero failed handshakes across a node intermediate rotation', { skip: NOT_ROOT }, () => {
  // 2h01s CA, 1h SVIDs, no jitter: the intermediate rotates 1h after start. Start at R-65m,
  // advance 35m before any handshake (leaves re-minted at R-35m, valid to R+25m), then across
  // the intermediate's half-life at R-5m: every leaf is re-minted under the new intermediate.
  const clock = new FakeClock(Date.now() - 65 * MINUTE);
  let harness: Harness;
  let web: StreamedWorkload;
  let db: StreamedWorkload;
  let traffic: HandshakeTraffic | undefined;

  after(async () => {
    await traffic?.stop();
    web?.close();
    db?.close();
    await harness?.agent.stop();
  });

  it('every handshake succeeds while both SVIDs move to the new intermediate', async () => {
    harness = await startTestAgent({ svid: { ttl: '1h' }, ca: { ttl: '2h1s' }, entries: ENTRIES }, clock, { random: () => 0.5 });
    web = new StreamedWorkload(harness.socketPath, WEB);
    db = new StreamedWorkload(harness.socketPath, DB);
    await eventually(() => web.ready && db.ready, 'both workloads to receive their SVIDs');
    const firstSerials = [web.chain[0]?.serialNumber, db.chain[0]?.serialNumber];
    await clock.advance(35 * MINUTE);
    await eventually(() => web.chain[0]?.serialNumber !== firstSerials[0] && db.chain[0]?.serialNumber !== firstSerials[1], 'the half-life re-mint of both SVIDs');
    const intermediateBefore = web.chain[1]?.fingerprint256;
    traffic = new HandshakeTraffic(web, db);
    await traffic.atLeast(10);

    await clock.advance(30 * MINUTE);
    await eventually(() => web.chain[1]?.fingerprint256 !== intermediateBefore && db.chain[1]?.fingerprint256 !== intermediateBefore, 'both SVIDs under the new intermediate');
    await traffic.atLeast(20);
    await traffic.stop();

    assert.deepEqual(traffic.failures, [], `${traffic.succeeded} handshakes succeeded`);
    assert.equal(web.chain[1]?.fingerprint256, db.chain[1]?.fingerprint256, 'one intermediate signs both');
    assert.equal(web.roots.length, 1, 'an intermediate rotation leaves the bundle alone');
  });
});
