import type { FederatedBundleSource } from '../identity/federated-bundles';
import type { RegistrationEntry } from '../entries/entries';
import type { StoreChange } from '../rotation/svid-store';
import type { TrustBundle, X509Svid } from '../rotation/x509-svid';

/**
 * What the Workload API, SDS and the file targets read their SVIDs and bundles from, declared by
 * its consumers (go-control-plane's cache interface is the model): the SvidStore implements it,
 * and tests or the composition root may wrap it.
 */
export interface SvidSource {
  /** The caller's current SVID for `entry`, minted on first use. */
  get(entry: RegistrationEntry): Promise<X509Svid>;
  /** The trust domain's own bundle now. */
  readonly bundle: TrustBundle;
  /** Other trust domains' bundles, when some source provides them. */
  readonly federated: FederatedBundleSource | undefined;
  /** Every SVID or bundle change; returns the unsubscribe. */
  subscribe(listener: (change: StoreChange) => void): () => void;
}
