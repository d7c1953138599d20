import { readFile } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { SpireUpstreamConfig } from './spire-upstream-config';
import { MeshidError } from '../common/errors';
import { pemToDerList } from '../identity/pem';
import type { Clock } from '../common/clock';
import type { KeyType } from '../identity/key-type';
import type { IssuingUpstream, LeafSigningUpstream } from '../upstream/upstream-authority';
import { AgentIdentity } from './agent-identity';
import { downstreamUpstream } from './downstream-upstream';
import { joinTokenAttestor } from './join-token-attestor';
import { k8sPsatAttestor } from './k8s-psat-attestor';
import { ServerConnection } from './server-connection';
import { ServerEntrySource } from './server-entry-source';
import { ServerFederatedBundles } from './server-federated-bundles';
import { serverSignedUpstream } from './server-signed-upstream';
import { readSavedBundle, ServerSync } from './server-sync';

export interface SpireNode {
  readonly upstream: IssuingUpstream | LeafSigningUpstream;
  /** Workload entries registered on the server for this node. */
  readonly entries: ServerEntrySource;
  /** Bundles of the trust domains those entries federate with. */
  readonly federated: ServerFederatedBundles;
  readonly identity: AgentIdentity;
  readonly sync: ServerSync;
}

export interface SpireNodeOptions {
  readonly config: SpireUpstreamConfig;
  readonly trustDomain: string;
  readonly dataDir: string;
  /** Mode for dataDir when it has to be created (0700, or 0711 when the socket is inside it: src/agent/data-dir-mode.ts). */
  readonly dataDirMode: number;
  /** Key type of SVIDs signed by the server (mode server-signed). */
  readonly leafKeyType: KeyType;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random?: () => number;
  readonly onSyncFailure?: () => void;
}

/**
 * Joins the SPIRE server: trusts the bootstrap bundle (or the bundle a previous run saved),
 * attests or reuses the agent SVID, syncs entries and bundle once (a failure here is a start-up
 * error, exit 2), then keeps both fresh in the background.
 */
export async function joinSpireServer(options: SpireNodeOptions): Promise<SpireNode> {
  const { config, trustDomain, dataDir, clock, logger, random, onSyncFailure } = options;
  await mkdir(dataDir, { recursive: true, mode: options.dataDirMode });
  const roots = (await readSavedBundle(dataDir)) ?? (await readBootstrapBundle(config.bootstrapBundleFile));
  const connection = new ServerConnection(config.serverAddress, trustDomain, roots);
  const attestor = config.nodeAttestor ? k8sPsatAttestor(config.nodeAttestor.cluster, config.nodeAttestor.tokenFile) : config.joinTokenFile !== undefined ? joinTokenAttestor(config.joinTokenFile) : undefined;
  const identity = await AgentIdentity.open({ dataDir, connection, attestor, clock, logger, random }).catch((error: unknown) => {
    connection.close();
    throw error;
  });
  const sync = new ServerSync({ connection, dataDir, intervalMs: config.syncIntervalMs, clock, logger, random, onFailure: onSyncFailure, onDenied: () => identity.stop() });
  const stop = async (): Promise<void> => {
    identity.stop();
    sync.stop();
    connection.close();
  };
  try {
    await sync.first();
  } catch (error) {
    await stop();
    throw error instanceof MeshidError ? error : new MeshidError('UPSTREAM', `upstream(spire): first sync with ${config.serverAddress} failed: ${(error as Error).message}`);
  }
  identity.start();
  try {
    if (config.mode === 'downstream') await waitForDownstreamEntry(sync, clock, logger);
  } catch (error) {
    await stop();
    throw error;
  }
  const entries = new ServerEntrySource(sync);
  const upstream =
    config.mode === 'downstream'
      ? downstreamUpstream({ serverAddress: config.serverAddress, trustDomain, connection, sync, close: stop })
      : serverSignedUpstream({ connection, sync, keyType: options.leafKeyType, close: stop });
  return { upstream, entries, federated: new ServerFederatedBundles(sync), identity, sync };
}

async function readBootstrapBundle(file: string): Promise<Buffer[]> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (error) {
    throw new MeshidError('UPSTREAM', `upstream(spire): cannot read bootstrapBundleFile ${file}: ${(error as Error).message}`);
  }
  const roots = pemToDerList(pem, 'CERTIFICATE');
  if (roots.length === 0) throw new MeshidError('UPSTREAM', `upstream(spire): bootstrapBundleFile ${file} holds no PEM certificate (write it with \`spire-server bundle show\`)`);
  return roots;
}

/**
 * A node attested a moment ago may not see its entries yet: the server refreshes its
 * authorized-entry cache on an interval (5 s by default, spire-server `cache_reload_interval`).
 * Mode downstream cannot start without its downstream entry, so it waits a bounded time.
 */
async function waitForDownstreamEntry(sync: ServerSync, clock: Clock, logger: Logger, limitMs = DOWNSTREAM_ENTRY_WAIT_MS): Promise<void> {
  const deadline = clock.now() + limitMs;
  let told = false;
  while (!sync.currentEntries.some((entry) => entry.downstream) && clock.now() < deadline) {
    if (!told) logger.info('spire: waiting for a downstream entry for this node');
    told = true;
    await new Promise<void>((resolve) => clock.setTimer(500, resolve));
    await sync.syncOnce();
  }
}

/** Three of spire-server's default cache reload intervals. */
const DOWNSTREAM_ENTRY_WAIT_MS = 15_000;
