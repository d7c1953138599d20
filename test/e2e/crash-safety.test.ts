import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { FAULT_POINTS, type FaultPointName } from '../../src/common/fault-point';
import { AgentProcess, diedAt, fetchSvid, freePort, killAgentProcesses, SvidCollector, verifiesAgainst, writeAgentConfig, type AgentExit } from '../support/fault-agent';
import { eventually, requestRotation } from '../support/rotation-traffic';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';

/**
 * kill -9 at every named fault point (src/common/fault-point.ts), then a restart: the agent
 * starts, every SVID a workload got before the kill and that is still valid verifies against
 * the bundle served after the restart, and a new SVID is served. The kill is the agent's own
 * SIGKILL at that step (MESHID_FAULT_POINT), never a timed one.
 */
after(async () => {
  await killAgentProcesses();
  await removeTempDirs();
});

const FIRST_START = FAULT_POINTS.filter((point) => point.startsWith('first-start:'));
const ROTATION = FAULT_POINTS.filter((point) => point.startsWith('rotation:'));
/** Points reached by the switch's commitment or later: the restart must serve the old and the new root. */
const COMMITTED: readonly FaultPointName[] = ['rotation:retired-written', 'rotation:key-renamed', 'rotation:cert-renamed'];

/** The exit of an agent expected to kill itself; bounded so a point never reached fails instead of hanging. */
async function deathOf(agent: AgentProcess, what: string): Promise<AgentExit> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(`the agent did not die at ${what} within 60 s`)), 60_000)));
  try {
    return await Promise.race([agent.exited, bound]);
  } finally {
    clearTimeout(timer);
  }
}

const stillValid = (svid: { chain: { validTo: string }[] }): boolean => Date.parse(svid.chain[0]?.validTo ?? '') > Date.now();

describe('crash safety: kill -9 at every fault point, then restart', () => {
  it('every fault point is exercised below', () => {
    assert.deepEqual(FAULT_POINTS.filter((point) => !FIRST_START.includes(point) && !ROTATION.includes(point)), ['jwt-keys:written']);
  });

  for (const point of [...FIRST_START, 'jwt-keys:written'] as const) {
    it(`${point}: killed during the first start, the agent starts again, serves, and keeps that root`, async () => {
      const dir = await makeTempDir('meshid-crash-');
      const { configFile, socketPath, dataDir } = await writeAgentConfig(dir, { adminPort: await freePort() });
      const exit = await deathOf(AgentProcess.start(configFile, socketPath, { faultPoint: point }), point);
      assert.ok(diedAt(exit, point), `died at ${point}:\n${exit.output}`);

      const second = AgentProcess.start(configFile, socketPath);
      await second.serving;
      const served = await fetchSvid(socketPath);
      assert.ok(verifiesAgainst(served.chain, served.bundle), 'a new SVID is served and verifies');
      assert.deepEqual((await readdir(dataDir)).filter((name) => name.includes('first-start') || name.endsWith('.tmp')), [], 'the staged root is gone');
      await second.stop('SIGKILL');

      const third = AgentProcess.start(configFile, socketPath);
      await third.serving;
      const later = await fetchSvid(socketPath);
      assert.ok(verifiesAgainst(served.chain, later.bundle), 'the SVID from before still verifies: same root');
      assert.equal(later.bundle.length, 1);
      await third.stop();
    });
  }

  for (const point of ROTATION) {
    it(`${point}: killed during a root rotation, the restart serves a bundle every SVID handed out still verifies against`, async () => {
      const dir = await makeTempDir('meshid-crash-');
      const adminPort = await freePort();
      // The drop waits until the last leaf under the old root expired: the shortest svid.ttl keeps it short.
      const { configFile, socketPath } = await writeAgentConfig(dir, { adminPort, svidTtl: point === 'rotation:retired-removed' ? '10s' : '1h' });
      const agent = AgentProcess.start(configFile, socketPath, { faultPoint: point });
      await agent.serving;
      const workload = new SvidCollector(socketPath);
      await eventually(() => workload.received.length > 0, 'the first SVID');
      const oldRoot = workload.received[0]?.bundle[0];
      // The kill may cut the admin request itself (prepare runs inside it).
      const requested = await requestRotation(`127.0.0.1:${adminPort}`).catch(() => undefined);
      if (requested) assert.equal(requested.status, 202, JSON.stringify(requested.body));
      const exit = await deathOf(agent, point);
      workload.close();
      assert.ok(diedAt(exit, point), `died at ${point}:\n${exit.output}`);

      const restarted = AgentProcess.start(configFile, socketPath);
      await restarted.serving;
      const now = await fetchSvid(socketPath);
      assert.ok(verifiesAgainst(now.chain, now.bundle), 'a new SVID is served and verifies');
      const inUse = workload.received.filter(stillValid);
      assert.ok(inUse.length > 0);
      for (const [index, svid] of inUse.entries()) {
        assert.ok(verifiesAgainst(svid.chain, now.bundle), `SVID ${index} (serial ${svid.chain[0]?.serialNumber}, issued under ${svid.chain.at(-1)?.issuer}) verifies against the bundle after the restart`);
      }
      const oldRootKept = now.bundle.some((root) => oldRoot !== undefined && root.raw.equals(oldRoot.raw));
      if (COMMITTED.includes(point)) {
        // The bundle published before the switch (old + new) is the one served after the restart.
        const published = workload.received.find((svid) => svid.bundle.length === 2)?.bundle ?? [];
        assert.equal(published.length, 2, 'the workload got the bundle with both roots before the switch');
        assert.deepEqual(now.bundle.map((root) => root.fingerprint256).sort(), published.map((root) => root.fingerprint256).sort(), 'the switch was finished: the same old and new roots are served');
        assert.ok(oldRootKept);
        assert.ok(!verifiesAgainst(now.chain, [oldRoot as NonNullable<typeof oldRoot>]), 'new SVIDs are issued under the new root');
      } else if (point === 'rotation:retired-removed') {
        assert.equal(now.bundle.length, 1);
        assert.ok(!oldRootKept, 'the old root had been dropped: every leaf under it had expired');
      } else {
        assert.equal(now.bundle.length, 1, 'a rotation that never switched is undone');
        assert.ok(oldRootKept);
      }
      await restarted.stop();
    });
  }
});
