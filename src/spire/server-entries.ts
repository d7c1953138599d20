import { createHash } from 'node:crypto';
import type { EntryRule } from '../entries/entries';
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

/**
 * A fingerprint of the entries' content: a poll that brings nothing new notifies no one. Content,
 * not `id@revision_number`: deleting a federated bundle with `-mode dissociate` changes entries'
 * federates_with without bumping their revision (observed with spire-server v1.13.3).
 */
export function entriesFingerprint(entries: readonly EntryMessage[]): string {
  const canonical = entries
    .map((entry) => JSON.stringify([entry.id, spiffeIdString(entry.spiffe_id), entry.selectors.map((selector) => `${selector.type}:${selector.value}`), entry.federates_with, entry.downstream, entry.dns_names, entry.hint, entry.revision_number]))
    .sort()
    .join('\n');
  return createHash('sha256').update(canonical).digest('hex');
}
