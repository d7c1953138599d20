import type { Logger } from 'pino';
import { MeshidError } from '../errors';
import type { WorkloadAttestor } from './attestors/workload-attestor';
import { matchingEntries, type EntrySource, type RegistrationEntry } from './entries';
import type { PeerIdentity, PeerRegistry } from './peer-identity';
import { readProcessStartTime } from './process-start-time';

export interface ResolvedWorkload {
  readonly peer: PeerIdentity;
  readonly selectors: readonly string[];
  readonly entries: readonly RegistrationEntry[];
}

export interface WorkloadResolverOptions {
  readonly peers: PeerRegistry;
  readonly attestors: readonly WorkloadAttestor[];
  readonly entries: EntrySource;
  readonly procRoot: string;
  readonly logger: Logger;
  /** Renders template entries; without it only entries with a fixed spiffeId apply. */
  readonly trustDomain?: string;
  /** Counts each attestor's outcome (metrics); optional so unit tests can leave it out. */
  readonly onAttestorResult?: (attestor: string, result: 'success' | 'failure') => void;
}

/** From a call's peer to the entries it is entitled to: attest, guard against PID reuse, match. */
export class WorkloadResolver {
  constructor(private readonly options: WorkloadResolverOptions) {}

  async resolve(peerToken: string): Promise<ResolvedWorkload> {
    const peer = this.options.peers.lookup(peerToken);
    if (!peer) throw new MeshidError('PEER_UNVERIFIED', 'connection has no kernel-attested peer');
    if (peer.startTime === undefined) throw new MeshidError('PEER_UNVERIFIED', `calling process ${peer.pid} exited before it could be attested`);

    const attested = await this.attest(peer.pid).then(
      (selectors) => ({ selectors }),
      (error: unknown) => ({ error }),
    );

    // PID-reuse guard: if the process that connected is gone and its pid now names another
    // process, the selectors above describe the wrong process. Same pid + same start time means
    // the same process (proc(5) starttime is fixed for a process's life). Checked before an
    // attestation failure is reported too: attestors fail when the caller vanished mid-way, and
    // that is a peer that cannot be verified (UNAUTHENTICATED), not an unavailable agent.
    const startTimeNow = readProcessStartTime(this.options.procRoot, peer.pid);
    if (startTimeNow !== peer.startTime) {
      throw new MeshidError('PEER_UNVERIFIED', `calling process ${peer.pid} exited or was replaced during attestation`);
    }
    if ('error' in attested) throw attested.error;
    const { selectors } = attested;

    return { peer, selectors, entries: this.entriesFor(selectors) };
  }

  /**
   * The entries the current registration grants these (already attested) selectors. Open streams
   * call it again when the entries change, so a withdrawn identity disappears at once.
   */
  entriesFor(selectors: readonly string[]): RegistrationEntry[] {
    const { trustDomain, logger } = this.options;
    const entries = matchingEntries(this.options.entries.current(), selectors, {
      ...(trustDomain !== undefined ? { trustDomain } : {}),
      onRenderProblem: (template, problem) => logger.warn({ template, problem }, 'template entry not applied: rendered SPIFFE ID refused'),
    });
    if (entries.length === 0) {
      throw new MeshidError('NO_IDENTITY', 'no identity issued: no registration entry matches this workload');
    }
    return entries;
  }

  /** Listens for registration changes (a reloaded entries file). */
  onEntriesChange(listener: () => void): () => void {
    return this.options.entries.subscribe(listener);
  }

  /** All attestors in parallel; one failing is logged and does not stop the others. */
  private async attest(pid: number): Promise<string[]> {
    const { attestors, logger } = this.options;
    const results = await Promise.allSettled(attestors.map((attestor) => attestor.attest(pid)));
    const selectors: string[] = [];
    let failures = 0;
    results.forEach((result, index) => {
      const name = attestors[index]?.name ?? 'unknown';
      this.options.onAttestorResult?.(name, result.status === 'fulfilled' ? 'success' : 'failure');
      if (result.status === 'fulfilled') selectors.push(...result.value);
      else {
        failures++;
        logger.warn({ attestor: name, pid, err: result.reason }, 'attestor failed');
      }
    });
    if (failures === attestors.length) {
      throw new MeshidError('ATTESTATION_FAILED', `every attestor failed for pid ${pid}`);
    }
    return selectors;
  }
}
