import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { meshid } from '../support/meshid-cli';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { fetchAs, NOT_ROOT } from '../support/workload-process';
import { eventually } from './support/eventually';
import { nodeFiles, spireUpstream } from './support/spire-node';
import { SpireServer } from './support/spire-server';
import { needs } from '../support/tools';

const WEB = 'spiffe://example.org/web';

/** The serial of the agent SVID kept in a node's dataDir. */
async function agentSerial(dataDir: string): Promise<string> {
  return new X509Certificate(await readFile(path.join(dataDir, 'spire-agent-svid.pem'))).serialNumber;
}

describe('node attestation with a join token against a real spire-server', { skip: NOT_ROOT || needs('spire-server') }, () => {
  let server: SpireServer;
  const agents: Harness[] = [];
  before(async () => {
    // Agent SVIDs live 60 s here (SPIRE backdates notBefore 10 s; renewal ~25 s after issue), so the renewal at half-life happens within the test.
    server = await SpireServer.start({ dir: await makeTempDir('meshid-spire-server-'), agentTtl: '60s' });
  });
  after(async () => {
    for (const harness of agents) await harness.agent.stop();
    await server?.stop();
    await removeTempDirs();
  });

  /** `meshid run --config` with a spire upstream; the CLI exits before serving on failure. */
  async function runCli(token: string): Promise<{ code: number | null; stderr: string }> {
    const files = await nodeFiles(server, token);
    const configFile = path.join(files.dir, 'meshid.yaml');
    const config = { trustDomain: 'example.org', dataDir: path.join(files.dir, 'data'), socketPath: path.join(files.dir, 'agent.sock'), admin: { enabled: false }, upstream: spireUpstream(server, files) };
    await writeFile(configFile, stringify(config));
    return meshid(['run', '--config', configFile], { cwd: files.dir });
  }

  test('a token the server never issued: a clear start-up error, exit 2', async () => {
    const result = await runCli('00000000-0000-0000-0000-000000000000');
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /meshid: cannot start: upstream\(spire\): node attestation \(join_token\) failed: \w+: .*join token does not exist or has already been used/);
  });

  test('the agent SVID is reused on restart (join tokens are single use), and renewed at half-life', async () => {
    const { token, agentId } = await server.joinToken();
    const files = await nodeFiles(server, token);
    const dataDir = path.join(files.dir, 'data');
    const socketPath = path.join(files.dir, 'agent.sock');
    const overrides = { trustDomain: 'example.org', dataDir, socketPath, upstream: spireUpstream(server, files) };
    await server.createEntry({ parentId: agentId, spiffeId: 'spiffe://example.org/meshid/node', selectors: ['meshid:node'], downstream: true });
    await server.createEntry({ parentId: agentId, spiffeId: WEB, selectors: ['unix:uid:1001'] });

    const first = await startTestAgent(overrides);
    const attested = await agentSerial(dataDir);
    await first.agent.stop();

    // The token is spent now: a second node using it is refused…
    const reused = await runCli(token);
    assert.equal(reused.code, 2, reused.stderr);
    assert.match(reused.stderr, /join token does not exist or has already been used/);

    // …but the node that used it restarts from its stored agent SVID, with the same token file.
    const second = await startTestAgent(overrides);
    agents.push(second);
    assert.equal(await agentSerial(dataDir), attested);
    const served = await eventually(async () => {
      const result = await fetchAs(1001, socketPath);
      assert.ok(result.svids?.[0], JSON.stringify(result));
      return result.svids[0];
    });
    assert.equal(served.spiffeId, WEB);

    // RenewAgent at half-life (~25 s after issue) replaces the stored SVID; the server accepts the new one.
    await eventually(async () => assert.notEqual(await agentSerial(dataDir), attested), 45_000);
    const later = 'spiffe://example.org/web-later';
    await server.createEntry({ parentId: agentId, spiffeId: later, selectors: ['unix:uid:1001', 'unix:gid:1001'] });
    await eventually(async () => {
      const result = await fetchAs(1001, socketPath);
      assert.ok(result.svids?.some((svid) => svid.spiffeId === later), JSON.stringify(result.svids?.map((svid) => svid.spiffeId)));
    });
  });
});
