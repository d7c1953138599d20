import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { FakeClock } from '../support/fake-clock';
import { fetchSvid, verifiesAgainst, type ServedSvid } from '../support/fault-agent';
import { eventually, requestRotation, rotationStatus } from '../support/rotation-traffic';
import { removeTempDirs } from '../support/temp-dir';

const MINUTE = 60_000;
const uid = process.getuid?.() ?? 0;
const ENTRIES = [{ spiffeId: 'spiffe://example.org/web', selectors: [`unix:uid:${uid}`] }];
const harnesses: Harness[] = [];

after(async () => {
  for (const harness of harnesses) await harness.agent.stop();
  await removeTempDirs();
});

/**
 * A root rotation resumed after a restart with a shorter svid.ttl: leaves minted under the
 * retired root with the old (longer) ttl are still valid, so the retired root must stay in the
 * bundle until they can have expired, not one new svid.ttl after the restart.
 */
test('restarted mid-drop with svid.ttl 1h → 10m, the retired root stays until the 1h leaves can have expired', async () => {
  const clock = new FakeClock(Date.now());
  const first = await startTestAgent({ svid: { ttl: '1h' }, ca: { ttl: '24h', rotationPropagationDelay: '1m' }, entries: ENTRIES }, clock, { random: () => 0.5 });
  harnesses.push(first);
  const dataDir = path.join(first.dir, 'data');
  const underOldRoot: ServedSvid = await fetchSvid(first.socketPath); // valid for 1h from now
  assert.equal(underOldRoot.bundle.length, 1);

  const started = await requestRotation(first.agent.adminAddress ?? '');
  assert.equal(started.status, 202, JSON.stringify(started.body));
  await clock.advance(MINUTE);
  await eventually(async () => (await rotationStatus(first.agent.adminAddress ?? '')).phase === 'switched', 'the switch');
  await eventually(async () => (await access(path.join(dataDir, 'upstream-ca.next.pem')).then(() => false, () => true)), 'the switch persisted');
  await first.agent.stop();
  harnesses.pop();
  const recorded = JSON.parse(await readFile(path.join(dataDir, 'upstream-ca.leaf-ttl.json'), 'utf8')) as { maxLeafTtlMs: Record<string, number> };
  assert.deepEqual(Object.values(recorded.maxLeafTtlMs), [60 * MINUTE, 60 * MINUTE], 'both roots: leaves of up to 1h');

  await clock.advance(MINUTE);
  const restartedAt = clock.now();
  const second = await startTestAgent({ dataDir, svid: { ttl: '10m' }, ca: { ttl: '24h', rotationPropagationDelay: '1m' }, entries: ENTRIES }, clock, { random: () => 0.5 });
  harnesses.push(second);
  const admin = second.agent.adminAddress ?? '';
  const resumed = await rotationStatus(admin);
  assert.equal(resumed.phase, 'switched');
  assert.equal(resumed.trigger, 'resumed');
  assert.equal(Date.parse(resumed.dropAt ?? ''), restartedAt + 60 * MINUTE, 'the drop waits the recorded 1h, not the new 10m');

  await clock.advance(11 * MINUTE); // past restart + the new svid.ttl: the old rule dropped the root here
  const later = await fetchSvid(second.socketPath);
  assert.equal(later.bundle.length, 2, 'both roots still served');
  assert.ok(verifiesAgainst(underOldRoot.chain, later.bundle), 'the 1h leaf under the retired root still verifies');
  assert.ok(Date.parse(underOldRoot.chain[0]?.validTo ?? '') > clock.now(), 'and it is still valid');

  await clock.advance(restartedAt + 60 * MINUTE - clock.now());
  await eventually(async () => (await rotationStatus(admin)).phase === 'idle', 'the drop once the 1h leaves can have expired');
  assert.equal((await fetchSvid(second.socketPath)).bundle.length, 1);
  await assert.rejects(access(path.join(dataDir, 'upstream-ca.retired.pem')));
});
