import { X509Certificate } from 'node:crypto';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ROTATION_PHASES, type RotationPhase } from '../rotation/root-rotation-status';
import type { HeldSvidInfo } from '../rotation/svid-store';
import { BACKDATE_MS } from '../rotation/node-ca';

/** What the scrape-time gauges read: the SVIDs held (SvidStore implements it). */
export interface HeldSvids {
  list(): readonly HeldSvidInfo[];
}

/** What the scrape-time gauges read: the CA's expiry facts (NodeCa implements it). */
export interface CaExpiry {
  readonly authority: { readonly notBeforeMs: number; readonly notAfterMs: number };
  readonly bundle: { readonly version: number; readonly rootsDer: readonly Buffer[] };
}

/**
 * Every metric the agent exports, in one Prometheus registry per agent (tests run several agents
 * in one process). Expiry figures are Unix-time gauges so "alert 30 days before expiry" is one
 * PromQL line: `meshid_ca_root_expiry_timestamp_seconds - time() < 30*86400`.
 * State gauges (held, expiry) are read from their owners at scrape time, not mirrored.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly svidsIssued: Counter<'kind'>;
  readonly attestations: Counter<'attestor' | 'result'>;
  readonly openStreams: Gauge<'api'>;
  readonly upstreamErrors: Counter;
  readonly pushLatency: Histogram<'api'>;
  readonly entriesReloads: Counter<'result'>;
  readonly entriesFileValid: Gauge;
  readonly fileWrites: Counter<'result'>;
  readonly rotationPhase: Gauge<'phase'>;
  readonly rootRotations: Counter;
  readonly spireSyncFailures: Counter;
  readonly connectionsRefused: Counter<'reason'>;
  readonly connectionsClosed: Counter<'reason'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.svidsIssued = new Counter({ name: 'meshid_svids_issued_total', help: 'X.509-SVIDs minted; kind is "first" for a new SPIFFE ID or "rotation"', labelNames: ['kind'], registers });
    this.attestations = new Counter({ name: 'meshid_attestations_total', help: 'Workload attestations per attestor and result', labelNames: ['attestor', 'result'], registers });
    this.openStreams = new Gauge({ name: 'meshid_open_streams', help: 'Open Workload API and SDS streams', labelNames: ['api'], registers });
    this.upstreamErrors = new Counter({ name: 'meshid_upstream_errors_total', help: 'Failed attempts to get the node intermediate signed by the upstream CA', registers });
    this.pushLatency = new Histogram({
      name: 'meshid_push_latency_seconds',
      help: 'From a change (rotation, new bundle) to the message being written to a stream',
      labelNames: ['api'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.entriesReloads = new Counter({ name: 'meshid_entries_reloads_total', help: 'Entries file reloads by result (applied, invalid)', labelNames: ['result'], registers });
    // Exported only once an entries file is configured (trackEntriesFile): without one there is
    // nothing to be valid, and a 0 would fire every `meshid_entries_file_valid == 0` alert.
    this.entriesFileValid = new Gauge({ name: 'meshid_entries_file_valid', help: '1 when the entries file last read was valid, 0 while the last good entries are kept; absent without an entries file', registers: [] });
    this.fileWrites = new Counter({ name: 'meshid_file_writes_total', help: 'Certificate file target writes by result', labelNames: ['result'], registers });
    this.rotationPhase = new Gauge({ name: 'meshid_ca_rotation_phase', help: 'Root rotation phase: 1 for the current one (idle, publishing: old+new roots propagating, switched: signing under the new root, old roots kept until their last leaf expires)', labelNames: ['phase'], registers });
    this.rootRotations = new Counter({ name: 'meshid_ca_root_rotations_total', help: 'Root rotations completed (old roots dropped from the bundles)', registers });
    this.spireSyncFailures = new Counter({ name: 'meshid_spire_sync_failures_total', help: 'Failed syncs with spire-server (entries and bundle); the last good state keeps being served', registers });
    this.connectionsRefused = new Counter({ name: 'meshid_connections_refused_total', help: 'Connections closed at accept because a cap was reached (reason: uid_cap, total_cap, fd_limit)', labelNames: ['reason'], registers });
    this.connectionsClosed = new Counter({ name: 'meshid_connections_closed_total', help: 'Connections the agent closed itself (preface_timeout, idle_timeout, unresponsive, session_error, goaway)', labelNames: ['reason'], registers });
    this.setRotationPhase('idle');
    for (const api of ['workload_x509_svid', 'workload_x509_bundles', 'workload_jwt_bundles', 'sds_sotw', 'sds_delta'] as const) this.openStreams.set({ api }, 0);
  }

  /** Starts exporting meshid_entries_file_valid (an entries file is configured). */
  trackEntriesFile(): void {
    if (!this.registry.getSingleMetric('meshid_entries_file_valid')) this.registry.registerMetric(this.entriesFileValid);
  }

  setRotationPhase(current: RotationPhase): void {
    for (const phase of ROTATION_PHASES) this.rotationPhase.set({ phase }, phase === current ? 1 : 0);
  }

  /** Gauges that read the store and CA at scrape time. */
  observe(store: HeldSvids, ca: CaExpiry): void {
    const registers = [this.registry];
    new Gauge({
      name: 'meshid_svids_held',
      help: 'X.509-SVIDs the agent currently holds',
      registers,
      collect() {
        this.set(store.list().length);
      },
    });
    new Gauge({
      name: 'meshid_svid_earliest_expiry_timestamp_seconds',
      help: 'notAfter of the SVID expiring first, as Unix time (absent when none is held)',
      registers,
      collect() {
        const held = store.list();
        this.reset();
        if (held.length > 0) this.set(Math.min(...held.map((svid) => svid.notAfterMs)) / 1000);
      },
    });
    // meshid renews a certificate at about half its lifetime (±10 %): once only a third is left,
    // the renewal is overdue. One instant per kind, so the alert is `time() > gauge`
    // (deploy/prometheus/meshid-rules.yaml); the earliest over the SVIDs, as their lifetimes differ
    // (svid.ttl changes, SVIDs capped at the intermediate's notAfter).
    new Gauge({
      name: 'meshid_svid_rotation_overdue_timestamp_seconds',
      help: 'Earliest instant at which a held SVID has only a third of its lifetime left (rotation overdue), as Unix time (0 when none is held)',
      registers,
      collect() {
        const held = store.list();
        this.reset();
        if (held.length > 0) this.set(Math.min(...held.map((svid) => thirdLeftMs(svid.notBeforeMs, svid.notAfterMs))) / 1000);
      },
    });
    new Gauge({
      name: 'meshid_ca_intermediate_rotation_overdue_timestamp_seconds',
      help: 'Instant at which the active node intermediate CA has only a third of its lifetime left (rotation overdue), as Unix time',
      registers,
      collect() {
        this.set(thirdLeftMs(ca.authority.notBeforeMs, ca.authority.notAfterMs) / 1000);
      },
    });
    new Gauge({
      name: 'meshid_ca_intermediate_expiry_timestamp_seconds',
      help: 'notAfter of the active node intermediate CA, as Unix time',
      registers,
      collect() {
        this.set(ca.authority.notAfterMs / 1000);
      },
    });
    const rootExpiry = new RootExpiryCache();
    new Gauge({
      name: 'meshid_ca_root_expiry_timestamp_seconds',
      help: 'notAfter of the trust bundle root expiring first, as Unix time',
      registers,
      collect() {
        this.set(rootExpiry.earliestSeconds(ca.bundle.version, ca.bundle.rootsDer));
      },
    });
  }

  metricsText(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * When a certificate has a third of its lifetime left, the lifetime counted from issuance as the
 * rotation time is (notBefore is backdated by BACKDATE_MS, like SPIRE's): from notBefore, a 10 s
 * svid.ttl would be "overdue" before its own rotation time.
 */
function thirdLeftMs(notBeforeMs: number, notAfterMs: number): number {
  const issuedMs = Math.min(notBeforeMs + BACKDATE_MS, notAfterMs);
  return notAfterMs - (notAfterMs - issuedMs) / 3;
}

/** Parsing the roots on every scrape would be waste: they change only with the bundle version. */
class RootExpiryCache {
  private version = -1;
  private seconds = 0;
  earliestSeconds(version: number, rootsDer: readonly Buffer[]): number {
    if (version !== this.version) {
      this.version = version;
      this.seconds = Math.min(...rootsDer.map((der) => Date.parse(new X509Certificate(der).validTo) / 1000));
    }
    return this.seconds;
  }
}
