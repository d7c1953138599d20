import { MeshidError } from '../errors';
import type { RegistrationEntry } from '../workload/entries';

/** What a requested SDS resource name stands for. */
export type SecretSource = { readonly kind: 'svid'; readonly entry: RegistrationEntry } | { readonly kind: 'bundle' };

/** Istio's and SPIRE's conventional names: Envoy configs written for either work unchanged. */
export const DEFAULT_SECRET = 'default';
export const ROOT_CA_SECRET = 'ROOTCA';

/**
 * Maps each requested name to what it serves: `default` (the caller's first SVID), `ROOTCA` and
 * `spiffe://<trust domain>` (the bundle), or a SPIFFE ID the caller holds. A name outside that set
 * is refused by name, so a misconfigured sidecar learns which secret is wrong.
 */
export function resolveSecretNames(names: readonly string[], entries: readonly RegistrationEntry[], trustDomain: string): Map<string, SecretSource> {
  const resolved = new Map<string, SecretSource>();
  const trustDomainId = `spiffe://${trustDomain}`;
  for (const name of names) {
    if (name === ROOT_CA_SECRET || name === trustDomainId) {
      resolved.set(name, { kind: 'bundle' });
      continue;
    }
    const entry = name === DEFAULT_SECRET ? entries[0] : entries.find((candidate) => candidate.spiffeId === name);
    if (!entry) throw new MeshidError('NO_IDENTITY', `this workload is not entitled to secret "${name}"`);
    resolved.set(name, { kind: 'svid', entry });
  }
  return resolved;
}
