import type { Logger } from 'pino';
import pino from 'pino';
import { MeshidError } from '../common/errors';
import { JwtAuthority } from '../jwt/jwt-authority';
import { JwtKeyFile } from '../jwt/jwt-key-store';
import { BundleAckTracker } from '../rotation/bundle-ack-tracker';
import { NodeCa } from '../rotation/node-ca';
import { RootRotation } from '../rotation/root-rotation';
import { systemClock, type Clock } from '../common/clock';
import { SvidStore } from '../rotation/svid-store';
import { sdsService } from '../sds/sds-service';
import { AgentMetrics } from '../telemetry/agent-metrics';
import { StreamTracker } from '../telemetry/stream-tracker';
import { followsOwnRoots, type AnyUpstream } from '../upstream/upstream-authority';
import { removeRetiredRoot } from '../upstream/self-signed-rotation';
import { UpstreamFileWatch } from '../upstream/upstream-file-watch';
import { prepareSuccessor, upstreamFiles } from '../upstream/upstream-types';
import { loadConfiguredUpstream, localUpstreamOf, upstreamContext } from './configured-upstream';
import { dataDirMode } from './data-dir-mode';
import { checkStatePermissions } from './state-permissions';
import { StaticEntrySource, type EntrySource } from '../entries/entries';
import { MergedEntrySource } from '../entries/merged-entries';
import { PeerRegistry } from '../attestation/peer-identity';
import { RateLimitedLog } from '../common/rate-limited-log';
import { isLoopbackHost } from '../common/loopback';
import { SocketListener, type ConnectionPolicy } from '../serving/socket-listener';
import { CallerBudget, type CallerLimits } from '../serving/caller-budget';
import { REQUEST_LIMITS } from '../serving/request-limits';
import { WatchedEntriesFile } from '../entries/watched-entries';
import { workloadApiService } from '../workload-api/workload-api-service';
import { WorkloadResolver } from '../attestation/workload-resolver';
import { FileTargets } from '../files/file-targets';
import { AdminServer } from './admin-server';
import { createAttestors } from './attestors';
import type { AgentConfig } from './config/agent-config';
import { configChanges, type ConfigChanges } from './config/live-keys';
import { loadEntriesFile } from './config/load';
import { createGrpcServer } from './grpc-server';

export interface AgentDependencies {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Root of the proc filesystem; tests may point attestation at fixtures. */
  readonly procRoot?: string;
  readonly random?: () => number;
  /** How long stop() lets in-flight calls finish before cutting connections. */
  readonly shutdownGraceMs?: number;
  /** Per-caller SDS caps; tests lower them to reach them with a few streams (default: REQUEST_LIMITS). */
  readonly callerLimits?: Partial<CallerLimits>;
}

export interface RunningAgent {
  readonly socketPath: string;
  readonly trustDomain: string;
  /** host:port of the admin HTTP server, when enabled. */
  readonly adminAddress: string | undefined;
  readonly metrics: AgentMetrics;
  /**
   * Resolves when every SVID mint started so far (first mints, rotations, re-mints) has finished
   * and the certificate-file writes it led to are done. For tests on a fake clock.
   */
  settled(): Promise<void>;
  /**
   * Applies a new configuration's live keys (entries, files, logLevel) and says which other keys
   * changed and need a restart to take effect.
   */
  applyConfig(next: AgentConfig): Promise<ConfigChanges>;
  /** Re-reads the entries file now (SIGHUP); a no-op without one. */
  reloadEntries(): void;
  /**
   * Graceful stop: stop accepting, end open streams with UNAVAILABLE (clients reconnect to the
   * next agent), let unary calls finish within the grace period, remove the socket.
   */
  stop(): Promise<void>;
}

const DEFAULT_SHUTDOWN_GRACE_MS = 5_000;

/**
 * The composition root: upstream → node CA → SVID store → Workload API + SDS on one socket, plus
 * the admin HTTP server. Everything that can fail at start (upstream files, entries file, socket
 * or admin port in use) fails before anything serves.
 */
export async function startAgent(config: AgentConfig, deps: AgentDependencies = {}): Promise<RunningAgent> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? pino({ level: 'silent' });
  const procRoot = deps.procRoot ?? '/proc';
  const metrics = new AgentMetrics();
  const streams = new StreamTracker(metrics);
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanUp = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };

  try {
    // Like ssh's StrictModes: nothing in dataDir is used unless only the agent can have put it there.
    await checkStatePermissions(config.dataDir, { dataDirMode: dataDirMode(config), logger });
    let current = config;
    const localEntries = await openEntries(config, logger, metrics);
    if (localEntries instanceof WatchedEntriesFile) cleanups.push(() => localEntries.stop());
    const replaceInlineEntries = (next: AgentConfig['entries']): void => (localEntries instanceof WatchedEntriesFile ? localEntries.replaceInline(next) : localEntries.replace(next));

    // A SPIRE server is both the upstream and a second source of entries (src/spire/).
    // Loaded only for upstream.type spire (its protos cost every other agent's start).
    const spire = config.upstream.type === 'spire' ? await (await import('../spire/load-spire-upstream.js')).joinSpireServer({ config: config.upstream, trustDomain: config.trustDomain, dataDir: config.dataDir, dataDirMode: dataDirMode(config), leafKeyType: config.svid.keyType, clock, logger, random: deps.random, onSyncFailure: () => metrics.spireSyncFailures.inc() }) : undefined;
    if (spire) cleanups.push(() => spire.upstream.close?.());
    const entries: EntrySource = spire ? new MergedEntrySource([localEntries, spire.entries]) : localEntries;
    const upstream: AnyUpstream = spire ? spire.upstream : await loadConfiguredUpstream(config, new Date(clock.now()), logger);
    const ca = new NodeCa({
      upstream,
      trustDomain: config.trustDomain,
      caTtlMs: config.ca.ttlMs,
      leafKeyType: config.svid.keyType,
      clock,
      logger,
      random: deps.random,
      onUpstreamError: () => metrics.upstreamErrors.inc(),
    });
    if (!spire) cleanups.push(() => ca.currentUpstream.close?.()); // releases an HSM session (a root rotation may have replaced it)
    await ca.start();
    cleanups.push(() => ca.stop());
    // The server's CA rotation is make-before-break on its side (the next root is in the bundle
    // before it signs), so a new set of roots is published at once; intermediates follow at their
    // own half-life, each chaining to a root the bundle holds until it expires.
    if (followsOwnRoots(upstream)) cleanups.push(upstream.onRootsChange((roots) => ca.publishRoots(roots)));
    const acks = new BundleAckTracker();
    const rotation = new RootRotation({
      ca,
      acks,
      clock,
      logger,
      propagationDelayMs: config.ca.rotationPropagationDelayMs,
      prepare: (trigger) => {
        const local = localUpstreamOf(config);
        // spire-server rotates its own CA make-before-break; the node follows its bundle (above).
        if (!local) return Promise.reject(new MeshidError('UPSTREAM', 'upstream(spire): the SPIRE server rotates its CA itself (spire-server localauthority x509 prepare/activate); meshid follows its bundle'));
        return prepareSuccessor(local, upstreamContext(config, logger), new Date(clock.now()), trigger === 'files-changed' ? trigger : 'admin');
      },
      onPhase: (phase) => metrics.setRotationPhase(phase),
      onCompleted: () => metrics.rootRotations.inc(),
    });
    cleanups.push(() => rotation.stop());
    // Leaves under a root retired before a restart were minted before it, so within the longest SVID TTL used under it.
    if (upstream.retiredRootsDer?.length) rotation.resumeDrop(upstream.retiredRootsDer, upstream.retiredLeavesExpireAtMs ?? clock.now() + config.svid.ttlMs, () => removeRetiredRoot(config.dataDir));
    const localUpstream = localUpstreamOf(config);
    const watchedFiles = localUpstream ? upstreamFiles(localUpstream) : [];
    if (watchedFiles.length > 0) {
      const watch = new UpstreamFileWatch(watchedFiles, () => void rotation.request('files-changed'), logger);
      await watch.start();
      cleanups.push(() => watch.stop());
    }
    const store = new SvidStore({ ca, svidTtlMs: config.svid.ttlMs, clock, logger, random: deps.random, onIssued: (_id, kind) => metrics.svidsIssued.inc({ kind }), ...(spire ? { federated: spire.federated } : {}) });
    cleanups.push(() => store.stop());
    metrics.observe(store, ca);
    const jwt = new JwtAuthority({ trustDomain: config.trustDomain, algorithm: config.jwt.algorithm, jwtTtlMs: config.jwt.ttlMs, keyTtlMs: config.jwt.keyTtlMs, clock, logger, random: deps.random, store: new JwtKeyFile(config.dataDir, dataDirMode(config)) });
    await jwt.start();
    cleanups.push(() => jwt.stop());

    const fileTargets = new FileTargets({ store, clock, logger, random: deps.random, onWrite: (result) => metrics.fileWrites.inc({ result }), startPaused: true });
    cleanups.push(() => fileTargets.stop());
    await fileTargets.replace(config.files);

    const peers = new PeerRegistry();
    const resolver = new WorkloadResolver({
      peers,
      attestors: createAttestors(config, procRoot, clock, logger, entries),
      entries,
      procRoot,
      logger,
      trustDomain: config.trustDomain,
      onAttestorResult: (attestor, result) => metrics.attestations.inc({ attestor, result }),
      // A caller that is no longer its connection's connector: {attestor="connector", result=<why>}.
      onConnectorRefused: (refusal) => metrics.attestations.inc({ attestor: 'connector', result: refusal }),
    });
    const refusals = new RateLimitedLog(logger, clock);
    const callerLimits: CallerLimits = { maxStreamsPerUid: REQUEST_LIMITS.maxStreamsPerUid, maxSubscriptionsPerUid: REQUEST_LIMITS.maxSubscriptionsPerUid, ...deps.callerLimits };
    const budget = new CallerBudget(callerLimits, (refusal, uid) => {
      refusals.warn(`${refusal}:${uid}`, { uid, reason: refusal, ...callerLimits }, 'refused SDS stream or subscription: per-caller cap reached (RESOURCE_EXHAUSTED)');
    });
    const { server, injector } = createGrpcServer({
      workloadApi: workloadApiService({ resolver, store, jwt, logger, observer: streams }),
      sds: sdsService({ resolver, store, trustDomain: config.trustDomain, logger, observer: streams, acks, budget }),
    });
    cleanups.push(() => server.forceShutdown());

    const policy: ConnectionPolicy = {
      clock,
      limits: config.connections,
      onRefused: (refusal, uid) => {
        metrics.connectionsRefused.inc({ reason: refusal });
        refusals.warn(`${refusal}:${uid}`, { uid, reason: refusal, maxPerUid: config.connections.maxPerUid, maxTotal: config.connections.maxTotal }, 'refused connection: connection cap reached');
      },
      onClosed: (reason) => metrics.connectionsClosed.inc({ reason }),
    };
    const listener = await SocketListener.listen({ socketPath: config.socketPath, procRoot, peers, sink: injector, logger, policy });
    cleanups.push(() => listener.close());
    let stopping = false;

    let admin: AdminServer | undefined;
    if (config.admin.enabled) {
      admin = await AdminServer.listen({
        host: config.admin.host,
        port: config.admin.port,
        metrics,
        store,
        streams,
        logger,
        rotation: { status: () => rotation.status(), request: () => rotation.request('admin') },
        notLiveReason: () => listener.acceptProblem(),
        notReadyReason: () => (stopping ? 'shutting down' : spire?.sync.deniedReason !== undefined ? `spire-server no longer accepts this agent (${spire.sync.deniedReason})` : clock.now() >= ca.authority.notAfterMs ? 'node CA expired and not yet renewed' : undefined),
      }).catch((error: unknown) => {
        throw new MeshidError('INVALID_CONFIG', `admin.listen ${config.admin.host}:${config.admin.port}: ${(error as Error).message}`);
      });
      const adminServer = admin;
      cleanups.push(() => adminServer.close());
      // Only reachable with admin.allowRemote: true (the schema refuses it otherwise).
      if (!isLoopbackHost(config.admin.host)) {
        logger.warn({ admin: admin.address, exposes: ['/metrics', '/debug/svids', '/ca/rotation', '/live', '/ready'] }, 'admin.allowRemote: the admin HTTP server listens beyond loopback and exposes /metrics, /debug/svids (SPIFFE IDs, serials) and /ca/rotation (root fingerprints) to the network; POST /ca/rotate stays loopback-only');
      }
    }
    logger.info({ socketPath: config.socketPath, trustDomain: config.trustDomain, upstream: upstream.name, admin: admin?.address }, 'meshid agent serving');
    fileTargets.resume(); // checked above, before serving; written (and afterWrite run) from here on, off the serving path

    const graceMs = deps.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
    return {
      socketPath: config.socketPath,
      trustDomain: config.trustDomain,
      adminAddress: admin?.address,
      metrics,
      async settled() {
        await store.settled(); // an installed SVID schedules its file writes before this resolves
        await fileTargets.settled();
      },
      async applyConfig(next) {
        const changes = configChanges(current, next);
        for (const key of changes.live) {
          if (key === 'logLevel') logger.level = next.logLevel;
          else if (key === 'entries') replaceInlineEntries(next.entries);
          else await fileTargets.replace(next.files);
        }
        // Keep the start-time values of keys that need a restart, so the next diff still reports them.
        current = { ...current, ...pick(next, changes.live) };
        return changes;
      },
      reloadEntries: () => (localEntries instanceof WatchedEntriesFile ? localEntries.reload() : undefined),
      async stop() {
        if (stopping) return;
        stopping = true;
        await listener.stopAccepting();
        streams.endAll(new MeshidError('SHUTTING_DOWN', 'meshid agent is shutting down; reconnect'));
        await shutdownWithin(server, graceMs);
        await cleanUp();
      },
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

function pick<T extends object, K extends keyof T>(value: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((key) => [key, value[key]])) as Pick<T, K>;
}

async function openEntries(config: AgentConfig, logger: Logger, metrics: AgentMetrics): Promise<StaticEntrySource | WatchedEntriesFile> {
  if (config.entriesFile === undefined) return new StaticEntrySource(config.entries);
  const watched = new WatchedEntriesFile({
    file: config.entriesFile,
    inline: config.entries,
    load: (file) => loadEntriesFile(file, config.trustDomain),
    logger,
    onReload: (reload) => {
      metrics.entriesReloads.inc({ result: reload.result });
      metrics.entriesFileValid.set(reload.result === 'applied' ? 1 : 0);
    },
  });
  metrics.trackEntriesFile();
  metrics.entriesFileValid.set(1);
  await watched.start();
  return watched;
}

/** grpc-js tryShutdown waits for every call; past the grace period the rest are cut. */
function shutdownWithin(server: { tryShutdown(callback: (error?: Error) => void): void; forceShutdown(): void }, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    // Real time, not Clock: it bounds a real grpc-js shutdown at the process edge.
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
