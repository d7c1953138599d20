import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { pemBlocks } from '../support/pem';
import { removeTempDirs } from '../support/temp-dir';
import { needs } from '../support/tools';
import { NOT_ROOT } from '../support/workload-process';
import { PeerProcess, requirePeer, runPeer, workloadEnv, type PeerEvent } from './support/peer-process';

const TD = 'spiffe://example.org';
const SERVER = { uid: 1201, id: 'spiffe://example.org/go-server' };
const CLIENT = { uid: 1202, id: 'spiffe://example.org/go-client' };
const INTRUDER = { uid: 1203, id: 'spiffe://example.org/intruder' };
const UNREGISTERED_UID = 1204;
// svid.ttl at its minimum: the SVIDs rotate within seconds, in real time.
const AGENT_CONFIG = {
  svid: { ttl: '10s' },
  entries: [SERVER, CLIENT, INTRUDER].map(({ uid, id }) => ({ spiffeId: id, selectors: [`unix:uid:${uid}`] })),
};

const handshakes = (events: PeerEvent[]): PeerEvent[] => events.filter((event) => event.event === 'handshake');
const distinct = (events: PeerEvent[], key: string): Set<unknown> => new Set(events.map((event) => event[key]).filter((value) => value !== undefined && value !== ''));

// issue 10 item 8: go-spiffe v2.9.0 (test/interop/go-peer) as real workloads under their own
// uids, attested by SO_PEERCRED, finding the agent through SPIFFE_ENDPOINT_SOCKET.
describe('go-spiffe v2 workloads against a real agent', { skip: NOT_ROOT || needs('go-spiffe-peer') }, () => {
  let harness: Harness;
  let peer: string;
  let env: NodeJS.ProcessEnv;
  let server: PeerProcess | undefined;
  let address = '';

  before(async () => {
    peer = requirePeer('go-spiffe-peer');
    harness = await startTestAgent(AGENT_CONFIG);
    env = workloadEnv(harness.socketPath);
    server = new PeerProcess(SERVER.uid, peer, ['server', '-authorize', CLIENT.id], env);
    await server.waitFor((events) => events.some((event) => event.event === 'listening'), 'the go-spiffe server to listen');
    address = String(server.events.find((event) => event.event === 'listening')?.address);
  });
  after(async () => {
    await server?.stop();
    await harness?.agent.stop();
    await removeTempDirs();
  });

  test('spiffetls mTLS between two uids, each authorizing the other by ID, through SVID rotations: no failed handshake', async () => {
    assert.ok(server);
    const client = new PeerProcess(CLIENT.uid, peer, ['client', '-connect', address, '-authorize', SERVER.id, '-interval', '50ms'], env);
    try {
      // Done once handshakes have used at least two rotated SVIDs on each side (three serials).
      await client.waitFor(
        (events) => {
          const ok = handshakes(events).filter((event) => event.ok === true);
          return distinct(ok, 'clientSerial').size >= 3 && distinct(ok, 'serverSerial').size >= 3;
        },
        'handshakes across two rotations of both SVIDs',
        40_000,
      );
    } finally {
      await client.stop();
    }
    const all = handshakes(client.events);
    assert.deepEqual(all.filter((event) => event.ok !== true), [], `every handshake succeeded (${all.length} made)\n${client.describe()}`);
    assert.ok(server.events.some((event) => event.event === 'served' && event.peer === CLIENT.id), 'the server saw the client by its SPIFFE ID');
    assert.ok(distinct(server.events.filter((event) => event.event === 'svid'), 'serial').size >= 3, 'the server\'s X509Source received the rotated SVIDs');
  });

  test('an ID the server does not authorize is refused; a client refuses a server that is not the one it authorizes', async () => {
    assert.ok(server);
    const intruder = await runPeer(INTRUDER.uid, peer, ['client', '-once', '-connect', address, '-authorize', SERVER.id], env);
    assert.equal(intruder.code, 1, intruder.describe());
    assert.deepEqual(handshakes(intruder.events).map((event) => event.ok), [false], intruder.describe());
    await server.waitFor((events) => events.some((event) => event.event === 'refused'), 'the server to refuse the intruder');
    assert.ok(!server.events.some((event) => event.event === 'served' && event.peer === INTRUDER.id), 'nothing was served to the intruder');

    const wrongServer = await runPeer(CLIENT.uid, peer, ['client', '-once', '-connect', address, '-authorize', `${TD}/someone-else`], env);
    assert.equal(wrongServer.code, 1, wrongServer.describe());
    assert.match(String(handshakes(wrongServer.events)[0]?.error), /unexpected ID/, wrongServer.describe());
  });

  test('FetchJWTSVID, then ValidateJWTSVID through the agent and ParseAndValidate against its JWT bundle', async () => {
    const run = await runPeer(CLIENT.uid, peer, ['jwt', '-audience', 'vault'], env);
    assert.equal(run.code, 0, run.describe());
    const jwt = run.events.find((event) => event.event === 'jwt');
    assert.ok(jwt, run.describe());
    assert.equal(jwt.spiffeId, CLIENT.id);
    assert.deepEqual(jwt.audience, ['vault']);
    assert.equal(jwt.validatedId, CLIENT.id, 'the agent validated it');
    assert.equal(jwt.localValidatedId, CLIENT.id, 'go-spiffe validated it locally with the FetchJWTBundles bundle');
    assert.deepEqual(jwt.bundleTrustDomains, [TD]);
    assert.equal((jwt.validatedClaims as Record<string, unknown>).sub, CLIENT.id);
    assert.match(String(jwt.wrongAudienceError), /InvalidArgument|audience/i, 'another audience is refused');
  });

  test('a uid no entry matches gets PERMISSION_DENIED from go-spiffe\'s calls', async () => {
    for (const mode of [['jwt', '-audience', 'vault'], ['bundles']]) {
      const run = await runPeer(UNREGISTERED_UID, peer, mode, env);
      assert.equal(run.code, 1, run.describe());
      assert.match(String(run.events.at(-1)?.error), /PermissionDenied/, run.describe());
    }
  });

  test('FetchX509Bundles returns the trust domain bundle (standard field numbers)', async () => {
    const run = await runPeer(SERVER.uid, peer, ['bundles'], env);
    assert.equal(run.code, 0, run.describe());
    const bundles = run.events.find((event) => event.event === 'bundles')?.bundles as Record<string, string> | undefined;
    assert.deepEqual(Object.keys(bundles ?? {}), [TD], run.describe());
    const upstreamRoot = await readFile(path.join(harness.dir, 'data', 'upstream-ca.pem'), 'utf8');
    const fingerprints = (pem: string): string[] => pemBlocks(pem).map((block) => new X509Certificate(block).fingerprint256);
    assert.deepEqual(fingerprints(bundles?.[TD] ?? ''), fingerprints(upstreamRoot), 'the bundle is the agent\'s upstream root');
  });
});
