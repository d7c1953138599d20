import type { PeerIdentity } from '../attestation/peer-identity';
import type { ResolvedWorkload } from '../attestation/workload-resolver';
import type { RegistrationEntry } from '../entries/entries';

/**
 * Who is calling, as both APIs need it: attested from the kernel at connect time, re-checked
 * before every write, re-matched when the registration changes. WorkloadResolver implements it.
 */
export interface CallerResolver {
  /** Attests the connection `call.getPeer()` names and matches its entries; rejects with the status to end the call. */
  resolve(peerToken: string): Promise<ResolvedWorkload>;
  /** Throws unless the process is still the one that connected (src/attestation/connector-binding.ts). */
  verifyConnector(peer: PeerIdentity): void;
  /** The entries `selectors` match after a registration change. */
  entriesFor(selectors: readonly string[]): RegistrationEntry[];
  /** Registration changed; returns the unsubscribe. */
  onEntriesChange(listener: () => void): () => void;
}
