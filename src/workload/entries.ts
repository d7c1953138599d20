/** A registration entry: workloads whose selectors include all of `selectors` get `spiffeId`. */
export interface RegistrationEntry {
  readonly spiffeId: string;
  readonly selectors: readonly string[];
  readonly dnsNames: readonly string[];
  readonly hint?: string;
}

/** The current registration entries. Later sources (a watched file) will also notify changes. */
export interface EntrySource {
  current(): readonly RegistrationEntry[];
}

export class StaticEntrySource implements EntrySource {
  constructor(private readonly entries: readonly RegistrationEntry[]) {}
  current(): readonly RegistrationEntry[] {
    return this.entries;
  }
}

/**
 * Entries whose selectors are a subset of the workload's, in entry order, one per SPIFFE ID (the
 * first wins). The order is stable so the default SVID (the first one) does not flap.
 */
export function matchingEntries(entries: readonly RegistrationEntry[], workloadSelectors: readonly string[]): RegistrationEntry[] {
  const have = new Set(workloadSelectors);
  const seen = new Set<string>();
  const matched: RegistrationEntry[] = [];
  for (const entry of entries) {
    if (seen.has(entry.spiffeId)) continue;
    if (entry.selectors.length > 0 && entry.selectors.every((selector) => have.has(selector))) {
      matched.push(entry);
      seen.add(entry.spiffeId);
    }
  }
  return matched;
}
