import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { removeTempDirs } from '../support/temp-dir';
import { needs } from '../support/tools';
import { NOT_ROOT } from '../support/workload-process';
import { PeerProcess, requirePeer, workloadEnv, type PeerEvent } from './support/peer-process';
import { restartAgent } from './support/restart-agent';

const SERVER = { uid: 1201, id: 'spiffe://example.org/go-server' };
const CLIENT = { uid: 1202, id: 'spiffe://example.org/go-client' };
// 30 s leaves: go-spiffe retries a broken stream after 1 s, then 2 s, ...; the SVIDs it holds
// must outlive that, as hour-long ones do in production.
const AGENT_CONFIG = {
  svid: { ttl: '30s' },
  entries: [SERVER, CLIENT].map(({ uid, id }) => ({ spiffeId: id, selectors: [`unix:uid:${uid}`] })),
};

const handshakes = (events: PeerEvent[]): PeerEvent[] => events.filter((event) => event.event === 'handshake');

// meshid ends every stream UNAVAILABLE when it stops (README "Signals"); go-spiffe retries such a
// stream, and its X509Source must pick up the restarted agent's SVIDs.
describe('go-spiffe across an agent restart', { skip: NOT_ROOT || needs('go-spiffe-peer') }, () => {
  let harness: Harness;
  let server: PeerProcess | undefined;
  let client: PeerProcess | undefined;

  before(async () => {
    harness = await startTestAgent(AGENT_CONFIG);
  });
  after(async () => {
    await client?.stop();
    await server?.stop();
    await harness?.agent.stop();
    await removeTempDirs();
  });

  test('both X509Sources reconnect; handshakes go on with the new agent\'s SVIDs and none fails', async () => {
    const peer = requirePeer('go-spiffe-peer');
    const env = workloadEnv(harness.socketPath);
    server = new PeerProcess(SERVER.uid, peer, ['server', '-authorize', CLIENT.id], env);
    await server.waitFor((events) => events.some((event) => event.event === 'listening'), 'the server to listen');
    const address = String(server.events.find((event) => event.event === 'listening')?.address);
    client = new PeerProcess(CLIENT.uid, peer, ['client', '-connect', address, '-authorize', SERVER.id, '-interval', '50ms'], env);
    await client.waitFor((events) => handshakes(events).some((event) => event.ok === true), 'a first handshake');

    // Every serial the old agent issued, taken once it is down (it can issue no more).
    const issuedBefore = new Set<unknown>();
    const serverEvents = server.events;
    const clientEvents = client.events;
    harness = await restartAgent(harness, AGENT_CONFIG, () => {
      for (const event of [...serverEvents, ...clientEvents]) if (event.event === 'svid') issuedBefore.add(event.serial);
    });
    await client.waitFor(
      (events) => handshakes(events).some((event) => event.ok === true && !issuedBefore.has(event.clientSerial) && !issuedBefore.has(event.serverSerial)),
      'a handshake with SVIDs from the restarted agent on both sides',
    );
    await client.stop();
    const all = handshakes(client.events);
    assert.deepEqual(all.filter((event) => event.ok !== true), [], `every handshake succeeded (${all.length} made)\n${client.describe()}`);
  });
});
