import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { spiffeHandshake } from '../support/spiffe-tls';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { assertReadableBy, clientDependencies, fetchAs, firstSvidAs, NOT_ROOT, type WorkloadSvid } from '../support/workload-process';
import { eventually } from './support/eventually';
import { joinNode, type SpireNodeAgent } from './support/spire-node';
import { SpireServer } from './support/spire-server';
import { needs } from '../support/tools';

const WEB = 'spiffe://example.org/web';
const DB = 'spiffe://example.org/db';

describe('two meshid nodes joined to a real spire-server (join_token, mode downstream)', { skip: NOT_ROOT || needs('spire-server') }, () => {
  let server: SpireServer;
  let nodeA: SpireNodeAgent;
  let nodeB: SpireNodeAgent;
  before(async () => {
    for (const uid of [1001, 1002]) await assertReadableBy(uid, clientDependencies());
    server = await SpireServer.start({ dir: await makeTempDir('meshid-spire-server-') });
    nodeA = await joinNode(server, { downstreamId: 'spiffe://example.org/meshid/node-a' });
    nodeB = await joinNode(server, { downstreamId: 'spiffe://example.org/meshid/node-b' });
  });
  after(async () => {
    await nodeA?.agent.stop();
    await nodeB?.agent.stop();
    await server?.stop();
    await removeTempDirs();
  });

  test('entries registered on the server reach each node, and its workloads complete mTLS across nodes', async () => {
    await server.createEntry({ parentId: nodeA.agentId, spiffeId: WEB, selectors: ['unix:uid:1001'] });
    await server.createEntry({ parentId: nodeB.agentId, spiffeId: DB, selectors: ['unix:uid:1002'] });
    // One sync interval (1 s here) brings the entries; poll for them.
    const web = await eventually(() => firstSvidAs(1001, nodeA.socketPath));
    const db = await eventually(() => firstSvidAs(1002, nodeB.socketPath));
    assert.equal(web.spiffeId, WEB);
    assert.equal(db.spiffeId, DB);
    // Each node minted its leaf under its own intermediate from the server.
    const intermediateOf = (svid: WorkloadSvid): X509Certificate => {
      const second = svid.chainPem.split(/(?=-----BEGIN CERTIFICATE-----)/)[1];
      assert.ok(second, 'the chain holds the node intermediate');
      return new X509Certificate(second);
    };
    assert.notEqual(intermediateOf(web).fingerprint256, intermediateOf(db).fingerprint256);
    assert.ok(intermediateOf(web).ca);
    // The intermediate chains to the server's root, which the served bundle holds.
    assert.ok(intermediateOf(web).verify(new X509Certificate(web.bundlePem).publicKey));
    const result = await spiffeHandshake(web, db, { server: WEB, client: DB });
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.serverSawClient, DB);
    assert.equal(result.clientSawServer, WEB);
  });

  test('a node does not serve what the server registered for the other node', async () => {
    const result = await fetchAs(1002, nodeA.socketPath);
    assert.equal(result.code, 7, JSON.stringify(result)); // PERMISSION_DENIED
  });

  test('the agent SVID is kept in dataDir, mode 0600', async () => {
    const info = await stat(path.join(nodeA.dir, 'data', 'spire-agent-svid.pem'));
    assert.equal(info.mode & 0o777, 0o600);
  });
});
