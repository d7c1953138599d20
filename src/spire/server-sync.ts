import { status as grpcStatus } from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { derToPem, pemToDerList } from '../identity/pem';
import { Backoff } from '../common/backoff';
import type { Clock, Timer } from '../common/clock';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../common/atomic-file';
import type { ServerConnection } from './server-connection';
import { entriesFingerprint, trustDomainId } from './server-entries';
import { call, type EntryMessage } from './spire-api';
import { AGENT_SVID_FILE } from './agent-svid-file';
import { agentDeniedReason, spireCallProblem, TERMINAL_DENIALS } from './spire-errors';


export const SERVER_BUNDLE_FILE = 'spire-bundle.pem';

export interface ServerSyncOptions {
  readonly connection: ServerConnection;
  readonly dataDir: string;
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random?: () => number;
  /** Told of every failed background sync (metrics). */
  readonly onFailure?: () => void;
  /** Told once when the server refuses this agent for good. */
  readonly onDenied?: (reason: string) => void;
}

/**
 * Polls the server for this node's authorized entries (Entry/GetAuthorizedEntries) and the trust
 * bundle (Bundle/GetBundle) every interval, as spire-agent's sync loop does; on failure it keeps
 * the last good state (SVIDs keep being served) and retries with backoff. Listeners hear only
 * real changes. The bundle is also kept in dataDir, so a restart after a server CA rotation
 * still verifies the server.
 */
export class ServerSync {
  private entries: readonly EntryMessage[] = [];
  private entriesPrint = '';
  private roots: readonly Buffer[] = [];
  private federated: ReadonlyMap<string, readonly Buffer[]> = new Map();
  private federatedPrint = '';
  private readonly federatedListeners = new Set<(bundles: ReadonlyMap<string, readonly Buffer[]>) => void>();
  private timer: Timer | undefined;
  private stopped = false;
  private readonly backoff: Backoff;
  private readonly entryListeners = new Set<(entries: readonly EntryMessage[]) => void>();
  private readonly rootListeners = new Set<(roots: readonly Buffer[]) => void>();
  /** How the last attempt went (for logs and tests). */
  lastError: string | undefined;
  /** Set once the server refuses this agent for good (banned, evicted): nothing is served any more. */
  deniedReason: string | undefined;

  constructor(private readonly options: ServerSyncOptions) {
    this.backoff = new Backoff(Math.min(1_000, options.intervalMs), Math.max(options.intervalMs * 6, 30_000), options.random);
  }

  get currentEntries(): readonly EntryMessage[] {
    return this.entries;
  }

  get currentRoots(): readonly Buffer[] {
    return this.roots;
  }

  onEntries(listener: (entries: readonly EntryMessage[]) => void): () => void {
    this.entryListeners.add(listener);
    return () => this.entryListeners.delete(listener);
  }

  get currentFederated(): ReadonlyMap<string, readonly Buffer[]> {
    return this.federated;
  }

  onFederated(listener: (bundles: ReadonlyMap<string, readonly Buffer[]>) => void): () => void {
    this.federatedListeners.add(listener);
    return () => this.federatedListeners.delete(listener);
  }

  onRoots(listener: (roots: readonly Buffer[]) => void): () => void {
    this.rootListeners.add(listener);
    return () => this.rootListeners.delete(listener);
  }

  /** The first sync, which must succeed: without entries and a bundle there is nothing to serve. */
  async first(): Promise<void> {
    await this.syncOnce();
    this.schedule(this.options.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer?.cancel();
    this.timer = this.options.clock.setTimer(delayMs, () => void this.tick());
  }

  private async tick(): Promise<void> {
    try {
      await this.syncOnce();
      if (this.lastError !== undefined) this.options.logger.info('spire: server reachable again');
      this.lastError = undefined;
      this.backoff.reset();
      this.schedule(this.options.intervalMs);
    } catch (error) {
      this.options.onFailure?.();
      const denied = agentDeniedReason(error);
      if (denied !== undefined && TERMINAL_DENIALS.has(denied)) return this.refused(denied, spireCallProblem(error));
      const delay = this.backoff.nextDelayMs();
      this.lastError = spireCallProblem(error);
      this.options.logger.warn({ err: this.lastError, retryInMs: Math.round(delay) }, 'spire: sync with the server failed; serving the last state');
      this.schedule(delay);
    }
  }

  /**
   * Banned (`spire-server agent ban`), evicted (`agent evict`) or expired: this agent identity is
   * done. Like spire-agent, which exits then, the node stops serving server entries (open streams
   * end PERMISSION_DENIED), stops syncing and says why; /ready reports it.
   */
  private refused(reason: string, problem: string): void {
    this.deniedReason = reason;
    this.stop();
    this.options.logger.error(
      { reason, err: problem },
      `spire: the server no longer accepts this agent (${reason}); serving of server entries stopped. To re-join: remove ${AGENT_SVID_FILE} from dataDir and restart with a new join token`,
    );
    this.options.onDenied?.(reason);
    this.entries = [];
    this.entriesPrint = '';
    for (const listener of this.entryListeners) listener(this.entries);
    this.federated = new Map();
    this.federatedPrint = '';
    for (const listener of this.federatedListeners) listener(this.federated);
  }

  /** One sync now (also used at start while waiting for the node's downstream entry). */
  async syncOnce(): Promise<void> {
    const { api } = this.options.connection;
    // No output mask: with one, v1.13.x servers copy `admin` into `downstream` (spire
    // pkg/server/api/entry.go ReadOnlyEntry.Clone, fixed by spiffe/spire#6636 in v1.14.3),
    // and the downstream flag is what tells the node's CA entry from workload entries.
    const [entries, bundle] = await Promise.all([call(api.entry, api.entry.GetAuthorizedEntries, {}), call(api.bundle, api.bundle.GetBundle, {})]);
    if (this.stopped) return;
    this.options.logger.debug({ entries: entries.entries.length, roots: bundle.x509_authorities.length }, 'spire: synced');
    const roots = bundle.x509_authorities.map((authority) => authority.asn1);
    if (roots.length > 0 && !sameRoots(roots, this.roots)) {
      this.roots = roots;
      await writeFileAtomic(path.join(this.options.dataDir, SERVER_BUNDLE_FILE), roots.map((der) => derToPem('CERTIFICATE', der)).join(''), 0o644);
      this.options.connection.setRoots(roots);
      for (const listener of this.rootListeners) listener(roots);
    }
    // Federated bundles before entries: an entry that starts federating finds its bundle in place.
    await this.syncFederated(entries.entries);
    const print = entriesFingerprint(entries.entries);
    if (print !== this.entriesPrint) {
      this.entriesPrint = print;
      this.entries = entries.entries;
      for (const listener of this.entryListeners) listener(this.entries);
    }
  }

  /**
   * The bundles of every trust domain an authorized entry federates with (Bundle/
   * GetFederatedBundle, as spire-agent's fetchBundles). NotFound means the server holds none:
   * it is absent from the map, so a bundle deleted on the server leaves the streams.
   */
  private async syncFederated(entries: readonly EntryMessage[]): Promise<void> {
    const { api } = this.options.connection;
    const names = [...new Set(entries.flatMap((entry) => entry.federates_with))].sort();
    const fetched = await Promise.all(
      names.map((name) =>
        call(api.bundle, api.bundle.GetFederatedBundle, { trust_domain: name.replace(/^spiffe:\/\//, '') }).then(
          (bundle) => [trustDomainId(name), bundle.x509_authorities.map((authority) => authority.asn1)] as const,
          (error: unknown) => {
            if ((error as { code?: number }).code === grpcStatus.NOT_FOUND) return undefined;
            throw error;
          },
        ),
      ),
    );
    const next = new Map<string, readonly Buffer[]>();
    for (const pair of fetched) if (pair && pair[1].length > 0) next.set(pair[0], pair[1]);
    const print = [...next].map(([id, roots]) => `${id}=${createHash('sha256').update(Buffer.concat(roots)).digest('hex')}`).join(',');
    if (print === this.federatedPrint) return;
    this.federatedPrint = print;
    this.federated = next;
    for (const listener of this.federatedListeners) listener(next);
  }
}

/** The bundle saved by an earlier run, if any. */
export async function readSavedBundle(dataDir: string): Promise<Buffer[] | undefined> {
  try {
    const roots = pemToDerList(await readFile(path.join(dataDir, SERVER_BUNDLE_FILE), 'utf8'), 'CERTIFICATE');
    return roots.length > 0 ? roots : undefined;
  } catch {
    return undefined;
  }
}

function sameRoots(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  return a.length === b.length && a.every((root) => b.some((other) => other.equals(root)));
}
