import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { fetchAs, NOT_ROOT } from '../support/workload-process';
import { eventually } from './support/eventually';
import { joinNode, type SpireNodeAgent } from './support/spire-node';
import { SpireServer } from './support/spire-server';
import { needs } from '../support/tools';

const WEB = 'spiffe://example.org/web';
const LATER = 'spiffe://example.org/registered-after-the-outage';

describe('server trouble: the node keeps serving while spire-server is down, reconnects when it is back, stops when banned', { skip: NOT_ROOT || needs('spire-server') }, () => {
  let server: SpireServer;
  let node: SpireNodeAgent;
  before(async () => {
    server = await SpireServer.start({ dir: await makeTempDir('meshid-spire-server-') });
    node = await joinNode(server, { downstreamId: 'spiffe://example.org/meshid/node' });
    await server.createEntry({ parentId: node.agentId, spiffeId: WEB, selectors: ['unix:uid:1001'] });
  });
  after(async () => {
    await node?.agent.stop();
    await server?.stop();
    await removeTempDirs();
  });

  test('server stopped for longer than the sync interval, then restarted', async () => {
    const before = await eventually(async () => {
      const result = await fetchAs(1001, node.socketPath);
      assert.equal(result.svids?.[0]?.spiffeId, WEB, JSON.stringify(result));
      return result;
    });
    await server.stop();
    // Several 1 s sync intervals fail while the server is down; entries and SVIDs stay.
    const failed = node.agent.metrics.registry.getSingleMetric('meshid_spire_sync_failures_total');
    assert.ok(failed, 'the sync failures are counted');
    await eventually(async () => assert.ok(((await failed.get()).values[0]?.value ?? 0) >= 2));
    const during = await fetchAs(1001, node.socketPath);
    assert.equal(during.svids?.[0]?.spiffeId, WEB, JSON.stringify(during));
    assert.equal(during.svids?.[0]?.chainPem, before.svids?.[0]?.chainPem, 'the same SVID is served, not dropped');

    // Same data dir and port: the server comes back with its registrations; the node reconnects.
    await server.launch();
    await server.createEntry({ parentId: node.agentId, spiffeId: LATER, selectors: ['unix:uid:1001'] });
    await eventually(async () => {
      const result = await fetchAs(1001, node.socketPath);
      assert.ok(result.svids?.some((svid) => svid.spiffeId === LATER), JSON.stringify(result.svids?.map((svid) => svid.spiffeId)));
    }, 45_000);
  });

  test('a banned agent stops serving server entries and says why', async () => {
    await server.cli('agent ban', '-spiffeID', node.agentId);
    await eventually(async () => {
      const result = await fetchAs(1001, node.socketPath);
      assert.equal(result.code, 7, JSON.stringify(result)); // PERMISSION_DENIED: no entry left
    });
    const ready = await fetch(`http://${node.agent.adminAddress}/ready`);
    assert.equal(ready.status, 503);
    assert.deepEqual(await ready.json(), { status: 'not ready', reason: 'spire-server no longer accepts this agent (AGENT_BANNED)' });
  });
});
