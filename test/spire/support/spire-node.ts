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
/** The files a node is configured with: the bootstrap bundle and a join token. */
export async function nodeFiles(server: SpireServer, token: string): Promise<{ dir: string; bundleFile: string; tokenFile: string }> {
  const dir = await makeTempDir('meshid-spire-node-');
  const bundleFile = path.join(dir, 'bootstrap.pem');
  const tokenFile = path.join(dir, 'token');
  await writeFile(bundleFile, await server.bundlePem());
  await writeFile(tokenFile, token);
  return { dir, bundleFile, tokenFile };
}

/** The `upstream` block of a node's config. */
export function spireUpstream(server: SpireServer, files: { bundleFile: string; tokenFile: string }, mode = 'downstream'): Record<string, unknown> {
  return { type: 'spire', serverAddress: server.address, bootstrapBundleFile: files.bundleFile, joinTokenFile: files.tokenFile, mode, syncInterval: '1s' };
}

export async function joinNode(server: SpireServer, options: { downstreamId?: string; mode?: 'downstream' | 'server-signed'; overrides?: Record<string, unknown> } = {}): Promise<SpireNodeAgent> {
  const { token, agentId } = await server.joinToken();
  if (options.downstreamId) await server.createEntry({ parentId: agentId, spiffeId: options.downstreamId, selectors: ['meshid:node'], downstream: true });
  return { ...(await startNode(server, token, options.mode, options.overrides)), agentId };
}

async function startNode(server: SpireServer, token: string, mode = 'downstream', overrides: Record<string, unknown> = {}): Promise<Harness> {
  const files = await nodeFiles(server, token);
  return startTestAgent({ trustDomain: server.trustDomain, upstream: spireUpstream(server, files, mode), ...overrides });
}
