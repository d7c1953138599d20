import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startTestAgent, type Harness } from '../../support/agent-harness';
import { makeTempDir } from '../../support/temp-dir';
import type { SpireServer } from './spire-server';

export interface SpireNodeAgent extends Harness {
  readonly agentId: string;
}

/**
 * A meshid agent joined to `server` as one node: its own join token, dataDir and socket. With
 * `downstreamId`, the node's downstream entry is registered first (mode downstream needs it).
 */
export async function joinNode(server: SpireServer, options: { downstreamId?: string; overrides?: Record<string, unknown> } = {}): Promise<SpireNodeAgent> {
  const { token, agentId } = await server.joinToken();
  if (options.downstreamId) await server.createEntry({ parentId: agentId, spiffeId: options.downstreamId, selectors: ['meshid:node'], downstream: true });
  return { ...(await startNode(server, token, options.overrides)), agentId };
}

async function startNode(server: SpireServer, token: string, overrides: Record<string, unknown> = {}): Promise<Harness> {
  const files = await makeTempDir('meshid-spire-node-');
  const bundleFile = path.join(files, 'bootstrap.pem');
  const tokenFile = path.join(files, 'token');
  await writeFile(bundleFile, await server.bundlePem());
  await writeFile(tokenFile, token);
  return startTestAgent({
    trustDomain: server.trustDomain,
    upstream: { type: 'spire', serverAddress: server.address, bootstrapBundleFile: bundleFile, joinTokenFile: tokenFile, mode: 'downstream', syncInterval: '1s' },
    ...overrides,
  });
}
