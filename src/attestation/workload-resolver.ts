import type { Logger } from 'pino';
import { MeshidError } from '../common/errors';
import type { AttestationSubject, WorkloadAttestor } from './attestors/workload-attestor';
import { ConnectorMismatch, verifyConnector, type ConnectorRefusal } from './connector-binding';
import { matchingEntries, type EntrySource, type RegistrationEntry } from '../entries/entries';
import type { PeerIdentity, PeerRegistry } from './peer-identity';

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
  /** Counts calls refused because the caller is no longer the process that connected. */
  readonly onConnectorRefused?: (refusal: ConnectorRefusal) => void;
}

/** From a call's peer to the entries it is entitled to: bind to the connector, attest, match. */
export class WorkloadResolver {
  constructor(private readonly options: WorkloadResolverOptions) {}

  async resolve(peerToken: string): Promise<ResolvedWorkload> {
    const peer = this.options.peers.lookup(peerToken);
    if (!peer) throw new MeshidError('PEER_UNVERIFIED', 'connection has no kernel-attested peer');
    this.verifyConnector(peer);

    const attested = await this.attest(subjectOf(peer)).then(
      (selectors) => ({ selectors }),
      (error: unknown) => ({ error }),
    );

    // Attestors may take a while (a kubelet poll): the caller is checked again, so that an exec,
    // a setuid or an exit during attestation is refused rather than served. Checked before an
    // attestation failure is reported too: attestors fail when the caller vanished mid-way, and
    // that is a peer that cannot be verified (UNAUTHENTICATED), not an unavailable agent.
    this.verifyConnector(peer);
    if ('error' in attested) throw attested.error;
    const { selectors } = attested;

    return { peer, selectors, entries: this.entriesFor(selectors) };
  }

  /**
   * Throws (UNAUTHENTICATED) unless the process on the connection is still the one that connected,
   * with the same credentials and executable. Streams call it again before every message they
   * send and every request they handle, so a long-lived stream is bound as tightly as a new call.
   */
  verifyConnector(peer: PeerIdentity): void {
    try {
      verifyConnector(this.options.procRoot, peer);
    } catch (error) {
      if (error instanceof ConnectorMismatch) {
        this.options.onConnectorRefused?.(error.refusal);
        this.options.logger.warn({ pid: peer.pid, uid: peer.uid, gid: peer.gid, refusal: error.refusal, reason: error.message }, 'call refused: the caller is not the process that connected');
      }
      throw error;
    }
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
  private async attest(subject: AttestationSubject): Promise<string[]> {
    const { attestors, logger } = this.options;
    const { pid } = subject;
    const results = await Promise.allSettled(attestors.map((attestor) => attestor.attest(subject)));
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

/** Attestors describe the connector as recorded at accept (see AttestationSubject). */
function subjectOf(peer: PeerIdentity): AttestationSubject {
  return {
    pid: peer.pid,
    uid: peer.uid,
    gid: peer.gid,
    supplementaryGids: peer.process?.ids.supplementaryGids ?? [],
    executable: peer.process?.executable,
  };
}
