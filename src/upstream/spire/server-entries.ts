import type { EntryRule } from '../../workload/entries';
import { spiffeIdString, type EntryMessage } from './spire-api';

/**
 * Server registration entries as meshid rules. Selectors keep SPIRE's `type:value` spelling
 * (`unix:uid:1000`, `k8s:ns:default`), which is the spelling meshid's attestors produce, so one
 * `spire-server entry create` serves spire-agent and meshid alike. Downstream entries name the
 * node itself (its intermediate CA), never a workload: they are left out here.
 */
export function workloadRules(entries: readonly EntryMessage[]): EntryRule[] {
  return entries
    .filter((entry) => !entry.downstream && entry.spiffe_id !== null && entry.selectors.length > 0)
    .map((entry) => ({
      spiffeId: spiffeIdString(entry.spiffe_id),
      selectors: entry.selectors.map((selector) => `${selector.type}:${selector.value}`),
      dnsNames: [...entry.dns_names],
      ...(entry.hint !== '' ? { hint: entry.hint } : {}),
      ...(entry.federates_with.length > 0 ? { federatesWith: entry.federates_with.map(trustDomainId) } : {}),
    }));
}

/** The API names trust domains bare (`other.org`); the Workload API keys bundles by ID (`spiffe://other.org`). */
export function trustDomainId(name: string): string {
  return name.startsWith('spiffe://') ? name : `spiffe://${name}`;
}

/** A stable fingerprint of the entries: a poll that brings nothing new notifies no one. */
export function entriesFingerprint(entries: readonly EntryMessage[]): string {
  return entries
    .map((entry) => `${entry.id}@${entry.revision_number}`)
    .sort()
    .join(',');
}
