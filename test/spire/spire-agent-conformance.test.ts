import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { spiffeHandshake } from '../support/spiffe-tls';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { assertReadableBy, clientDependencies, fetchAs, NOT_ROOT, type WorkloadSvid } from '../support/workload-process';
import { eventually } from './support/eventually';
import { SpireAgent } from './support/spire-agent';
import { nodeFiles, spireUpstream } from './support/spire-node';
import { SpireServer } from './support/spire-server';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { needs } from '../support/tools';

const WEB = 'spiffe://example.org/web';
const DB = 'spiffe://example.org/db';

async function served(uid: number, socketPath: string): Promise<WorkloadSvid[]> {
  return eventually(async () => {
    const result = await fetchAs(uid, socketPath);
    assert.ok(result.svids && result.svids.length > 0, JSON.stringify(result));
    return result.svids;
  });
}

describe('meshid and spire-agent v1.13.3 on the same server, with the same entries', { skip: NOT_ROOT || needs('spire-server', 'spire-agent') }, () => {
  let server: SpireServer;
  let meshidNode: Harness;
  let spireAgent: SpireAgent;
  before(async () => {
    for (const uid of [1001, 1002]) await assertReadableBy(uid, clientDependencies());
    server = await SpireServer.start({ dir: await makeTempDir('meshid-spire-server-') });
    // The meshid node joins with a node alias (`token generate -spiffeID`), as README shows.
    const meshidToken = /Token:\s*(\S+)/.exec(await server.cli('token generate', '-spiffeID', 'spiffe://example.org/node/meshid'))?.[1] ?? '';
    const agentToken = await server.joinToken();
    for (const parentId of ['spiffe://example.org/node/meshid', agentToken.agentId]) {
      await server.createEntry({ parentId, spiffeId: WEB, selectors: ['unix:uid:1001'] });
      await server.createEntry({ parentId, spiffeId: DB, selectors: ['unix:uid:1002'] });
    }
    await server.createEntry({ parentId: 'spiffe://example.org/node/meshid', spiffeId: 'spiffe://example.org/meshid/node', selectors: ['meshid:node'], downstream: true });
    const files = await nodeFiles(server, meshidToken);
    meshidNode = await startTestAgent({ trustDomain: 'example.org', upstream: spireUpstream(server, files) });
    spireAgent = await SpireAgent.start(server, await makeTempDir('meshid-spire-agent-'), agentToken.token);
  });
  after(async () => {
    await meshidNode?.agent.stop();
    await spireAgent?.stop();
    await server?.stop();
    await removeTempDirs();
  });

  test('both agents serve the same SPIFFE IDs to the same workloads', async () => {
    for (const [uid, id] of [[1001, WEB], [1002, DB]] as const) {
      const fromMeshid = await served(uid, meshidNode.socketPath);
      const fromSpire = await served(uid, spireAgent.socketPath);
      assert.deepEqual(fromMeshid.map((svid) => svid.spiffeId), [id]);
      assert.deepEqual(fromSpire.map((svid) => svid.spiffeId), [id]);
    }
  });

  test("a workload served by meshid and one served by spire-agent complete mTLS, either way round", async () => {
    const [webFromMeshid] = await served(1001, meshidNode.socketPath);
    const [dbFromSpire] = await served(1002, spireAgent.socketPath);
    const [webFromSpire] = await served(1001, spireAgent.socketPath);
    const [dbFromMeshid] = await served(1002, meshidNode.socketPath);
    assert.ok(webFromMeshid && dbFromSpire && webFromSpire && dbFromMeshid);
    const one = await spiffeHandshake(webFromMeshid, dbFromSpire, { server: WEB, client: DB });
    assert.ok(one.ok, JSON.stringify(one));
    const other = await spiffeHandshake(dbFromMeshid, webFromSpire, { server: DB, client: WEB });
    assert.ok(other.ok, JSON.stringify(other));
  });
});
