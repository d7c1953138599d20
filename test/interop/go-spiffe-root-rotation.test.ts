import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { eventually, requestRotation, rotationStatus } from '../support/rotation-traffic';
import { removeTempDirs } from '../support/temp-dir';
import { needs } from '../support/tools';
import { NOT_ROOT } from '../support/workload-process';
import { PeerProcess, requirePeer, runPeer, workloadEnv, type PeerEvent } from './support/peer-process';

const TD = 'spiffe://example.org';
const SERVER = { uid: 1201, id: 'spiffe://example.org/go-server' };
const CLIENT = { uid: 1202, id: 'spiffe://example.org/go-client' };

const okHandshakes = (events: PeerEvent[]): PeerEvent[] => events.filter((event) => event.event === 'handshake' && event.ok === true);

// A root rotation (`meshid ca rotate`) in real time under go-spiffe mTLS traffic: X509Sources
// must take the old+new bundle before any peer presents a leaf under the new root, and keep
// working once the old root is gone (docs/ARCHITECTURE.md "Root rotation").
describe('go-spiffe mTLS across a root rotation', { skip: NOT_ROOT || needs('go-spiffe-peer') }, () => {
  let harness: Harness;
  let peer: string;
  let env: NodeJS.ProcessEnv;
  let server: PeerProcess | undefined;
  let client: PeerProcess | undefined;

  before(async () => {
    peer = requirePeer('go-spiffe-peer');
    // 10 s leaves: the old root leaves the bundles 10 s after the switch at the latest.
    harness = await startTestAgent({
      svid: { ttl: '10s' },
      ca: { rotationPropagationDelay: '2s' },
      entries: [SERVER, CLIENT].map(({ uid, id }) => ({ spiffeId: id, selectors: [`unix:uid:${uid}`] })),
    });
    env = workloadEnv(harness.socketPath);
  });
  after(async () => {
    await client?.stop();
    await server?.stop();
    await harness?.agent.stop();
    await removeTempDirs();
  });

  test('publish, switch, drop: no failed handshake, and FetchX509Bundles ends on the new root alone', async () => {
    const bundleRoots = async (): Promise<string> => {
      const run = await runPeer(SERVER.uid, peer, ['bundles'], env);
      assert.equal(run.code, 0, run.describe());
      return String((run.events[0]?.bundles as Record<string, string> | undefined)?.[TD]);
    };
    server = new PeerProcess(SERVER.uid, peer, ['server', '-authorize', CLIENT.id], env);
    await server.waitFor((events) => events.some((event) => event.event === 'listening'), 'the server to listen');
    const address = String(server.events.find((event) => event.event === 'listening')?.address);
    client = new PeerProcess(CLIENT.uid, peer, ['client', '-connect', address, '-authorize', SERVER.id, '-interval', '50ms'], env);
    await client.waitFor((events) => okHandshakes(events).length > 0, 'a first handshake');
    const oldRoot = await bundleRoots();

    const admin = harness.agent.adminAddress ?? '';
    const started = await requestRotation(admin);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    await eventually(async () => (await rotationStatus(admin)).completedRotations === 1, 'the rotation to complete (old roots dropped)', 40_000);
    const afterDrop = okHandshakes(client.events).length;
    await client.waitFor((events) => okHandshakes(events).length >= afterDrop + 5, 'handshakes with the new root alone');
    await client.stop();

    const failed = client.events.filter((event) => event.event === 'handshake' && event.ok !== true);
    assert.deepEqual(failed, [], `every handshake succeeded (${okHandshakes(client.events).length} made)\n${client.describe()}`);
    const newRoot = await bundleRoots();
    assert.equal(newRoot.match(/BEGIN CERTIFICATE/g)?.length, 1, 'one root left');
    assert.notEqual(newRoot, oldRoot, 'and it is the new one');
  });
});
