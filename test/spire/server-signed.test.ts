import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { spiffeHandshake } from '../support/spiffe-tls';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { assertReadableBy, clientDependencies, firstSvidAs, NOT_ROOT, type WorkloadSvid } from '../support/workload-process';
import { eventually } from './support/eventually';
import { joinNode, type SpireNodeAgent } from './support/spire-node';
import { SpireServer } from './support/spire-server';
import { needs } from '../support/tools';

const WEB = 'spiffe://example.org/web';
const DB = 'spiffe://example.org/db';

async function svidOf(uid: number, socketPath: string): Promise<WorkloadSvid> {
  return eventually(() => firstSvidAs(uid, socketPath));
}

describe('mode server-signed: every SVID is signed by a real spire-server (BatchNewX509SVID)', { skip: NOT_ROOT || needs('spire-server') }, () => {
  let server: SpireServer;
  let nodeA: SpireNodeAgent;
  let nodeB: SpireNodeAgent;
  before(async () => {
    for (const uid of [1001, 1002]) await assertReadableBy(uid, clientDependencies());
    // Short server SVIDs (20 s; SPIRE backdates 10 s): the store re-signs them at half-life during the test.
    server = await SpireServer.start({ dir: await makeTempDir('meshid-spire-server-'), svidTtl: '20s' });
    // No downstream entry: this mode needs none.
    nodeA = await joinNode(server, { mode: 'server-signed' });
    nodeB = await joinNode(server, { mode: 'server-signed' });
  });
  after(async () => {
    await nodeA?.agent.stop();
    await nodeB?.agent.stop();
    await server?.stop();
    await removeTempDirs();
  });

  test('workloads on two nodes get server-signed SVIDs and complete mTLS; SVIDs are re-signed at half-life', async () => {
    await server.createEntry({ parentId: nodeA.agentId, spiffeId: WEB, selectors: ['unix:uid:1001'] });
    await server.createEntry({ parentId: nodeB.agentId, spiffeId: DB, selectors: ['unix:uid:1002'] });
    const web = await svidOf(1001, nodeA.socketPath);
    const db = await svidOf(1002, nodeB.socketPath);
    // No node intermediate: the leaf is signed by the server's CA, a root in the served bundle.
    const leaf = new X509Certificate(web.chainPem);
    assert.equal(web.chainPem.match(/BEGIN CERTIFICATE/g)?.length, 1);
    assert.ok(leaf.verify(new X509Certificate(web.bundlePem).publicKey));
    const result = await spiffeHandshake(web, db, { server: WEB, client: DB });
    assert.ok(result.ok, JSON.stringify(result));

    // The server chose the lifetime (default_x509_svid_ttl); the node renews at half of it.
    await eventually(async () => {
      const again = await svidOf(1001, nodeA.socketPath);
      assert.notEqual(new X509Certificate(again.chainPem).serialNumber, leaf.serialNumber);
    }, 30_000);
  });
});
