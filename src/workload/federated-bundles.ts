/**
 * Bundles of other trust domains, keyed by trust domain ID (`spiffe://other.org`), each a list of
 * DER roots. A workload is served those its entries name in `federatesWith` (Workload API
 * `federated_bundles`). `version` changes whenever the map does, and a removed bundle is simply
 * absent from the next map, so it leaves the streams too (SPIRE #1816 kept serving it).
 */
export interface FederatedBundleSource {
  readonly version: number;
  current(): ReadonlyMap<string, Buffer>;
  subscribe(listener: () => void): () => void;
}

/** The bundles `entries` federate with that the source holds, by trust domain ID. */
export function federatedFor(source: FederatedBundleSource | undefined, entries: readonly { readonly federatesWith?: readonly string[] }[]): Record<string, Buffer> {
  if (!source) return {};
  const bundles = source.current();
  const out: Record<string, Buffer> = {};
  for (const entry of entries) {
    for (const id of entry.federatesWith ?? []) {
      const bundle = bundles.get(id);
      if (bundle) out[id] = bundle;
    }
  }
  return out;
}
