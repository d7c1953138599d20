/**
 * Bundles of other trust domains, keyed by trust domain ID (`spiffe://other.org`), each a list of
 * DER roots. A workload is served those its entries name in `federatesWith` (Workload API
 * `federated_bundles`). `version` changes whenever the map does, and a removed bundle is simply
 * absent from the next map, so it leaves the streams too (SPIRE #1816 kept serving it).
 */
export interface FederatedBundleSource {
  readonly version: number;
  current(): ReadonlyMap<string, readonly Buffer[]>;
  subscribe(listener: () => void): () => void;
}

/** Every trust domain ID `entries` federate with, sorted, without repeats. */
export function federatedIds(entries: readonly { readonly federatesWith?: readonly string[] }[]): string[] {
  return [...new Set(entries.flatMap((entry) => entry.federatesWith ?? []))].sort();
}

/** The bundles `entries` federate with that the source holds: trust domain ID → DER roots concatenated (Workload API form). */
export function federatedFor(source: FederatedBundleSource | undefined, entries: readonly { readonly federatesWith?: readonly string[] }[]): Record<string, Buffer> {
  if (!source) return {};
  const bundles = source.current();
  const out: Record<string, Buffer> = {};
  for (const id of federatedIds(entries)) {
    const roots = bundles.get(id);
    if (roots) out[id] = Buffer.concat(roots as Buffer[]);
  }
  return out;
}
