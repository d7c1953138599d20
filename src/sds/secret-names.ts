import { MeshidError } from '../common/errors';
import { SpiffeId } from '../identity/spiffe-id';
import type { RegistrationEntry } from '../entries/entries';
import { federatedIds } from '../identity/federated-bundles';
import { allowedPeersOf, partlyRestricted, type PeerMatcher } from '../entries/allowed-peers';

/**
 * Which trust bundles a validation context carries and how: `roots` (ROOTCA) is always plain
 * trusted_ca, as Istio-style configs expect; `trust-domain` and `all` use the SPIFFE certificate
 * validator when the Envoy has it (see validator-choice.ts).
 */
export type BundleScope = 'roots' | 'trust-domain' | 'all' | 'federated';

/**
 * What a requested SDS resource name stands for. A bundle source lists the other trust domains
 * (IDs) whose federated bundles it carries: for `ALL`, those the caller's entries federate with;
 * for `spiffe://<other td>`, that one alone (scope `federated`, without this trust domain's roots).
 */
export type SecretSource = { readonly kind: 'svid'; readonly entry: RegistrationEntry } | BundleSource;

/**
 * A validation context. `peers` (set only when the caller's entries restrict them, see
 * allowedPeersOf) goes into match_typed_subject_alt_names, whatever the scope and form.
 */
export interface BundleSource {
  readonly kind: 'bundle';
  readonly scope: BundleScope;
  readonly federated?: readonly string[];
  readonly peers?: readonly PeerMatcher[];
}

/** Istio's and SPIRE's conventional names: Envoy configs written for either work unchanged. */
export const DEFAULT_SECRET = 'default';
export const ROOT_CA_SECRET = 'ROOTCA';
/** SPIRE's default_all_bundles_name: every trust bundle in one validation context. */
export const ALL_BUNDLES_SECRET = 'ALL';
/**
 * The xDS wildcard. The protocol defines wildcard subscriptions only for Listener and Cluster
 * (xds_protocol "How the client specifies what resources to return"); for secrets it selects
 * nothing: Envoy always names the secret it needs, and one SDS subscription takes one secret.
 */
export const WILDCARD = '*';

/** A client-supplied name as shown in errors and logs: JSON-quoted and cut short. */
export function quoteName(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);
}

/**
 * What `name` serves to a caller holding `entries`: `default` (the first SVID), `ROOTCA`,
 * `spiffe://<trust domain>` and `ALL` (bundles), or a SPIFFE ID the caller holds.
 * - A SPIFFE ID of a workload the caller does not hold throws NO_IDENTITY (PERMISSION_DENIED),
 *   whether or not any entry has it: the answer must not reveal which identities exist.
 * - Any other name (another trust domain's bundle, which meshid does not have, or a name that
 *   means nothing here) returns undefined: no such secret exists.
 */
export function resolveSecretName(name: string, entries: readonly RegistrationEntry[], trustDomain: string): SecretSource | undefined {
  const bundle = (scope: BundleScope, federated: readonly string[] = []): BundleSource => {
    const peers = allowedPeersOf(entries);
    return { kind: 'bundle', scope, ...(federated.length > 0 ? { federated } : {}), ...(peers ? { peers } : {}) };
  };
  if (name === ROOT_CA_SECRET) return bundle('roots');
  if (name === ALL_BUNDLES_SECRET) return bundle('all', federatedIds(entries));
  if (name === `spiffe://${trustDomain}`) return bundle('trust-domain');
  // Another trust domain's bundle, to a caller whose entries federate with it (SPIRE serves these names too).
  if (federatedIds(entries).includes(name)) return bundle('federated', [name]);
  if (name === DEFAULT_SECRET) {
    const first = entries[0];
    if (!first) throw new MeshidError('NO_IDENTITY', 'this workload holds no SVID to serve as "default"');
    return { kind: 'svid', entry: first };
  }
  let id: SpiffeId;
  try {
    id = SpiffeId.parse(name);
  } catch {
    return undefined;
  }
  if (id.isRoot) return undefined;
  const entry = entries.find((candidate) => candidate.spiffeId === name);
  if (!entry) throw new MeshidError('NO_IDENTITY', `this workload is not entitled to secret ${quoteName(name)}`);
  return { kind: 'svid', entry };
}

/**
 * State-of-the-world and Fetch resolution: every name must be served, since SotW has no way to
 * say "does not exist" (Delta answers those with removed_resources instead). The wildcard name
 * selects nothing and is skipped.
 */
export function resolveSecretNames(names: readonly string[], entries: readonly RegistrationEntry[], trustDomain: string): Map<string, SecretSource> {
  const resolved = new Map<string, SecretSource>();
  for (const name of names) {
    if (name === WILDCARD) continue;
    const source = resolveSecretName(name, entries, trustDomain);
    if (!source) throw new MeshidError('NO_IDENTITY', `meshid serves no secret named ${quoteName(name)}`);
    resolved.set(name, source);
  }
  return resolved;
}

/**
 * Logs (warn) when some but not all of a caller's entries carry allowedPeers: its validation
 * contexts are then unrestricted (allowedPeersOf), which the operator most likely did not mean.
 * Returns whether it warned, so a stream warns once per change of that state.
 */
export function warnIfRestrictionVoid(entries: readonly RegistrationEntry[], logger: { warn(details: object, message: string): void }): boolean {
  if (!partlyRestricted(entries)) return false;
  logger.warn(
    { restricted: entries.filter((entry) => entry.allowedPeers !== undefined).map((entry) => entry.spiffeId), unrestricted: entries.filter((entry) => entry.allowedPeers === undefined).map((entry) => entry.spiffeId) },
    'caller holds entries with and without allowedPeers: its validation contexts admit any peer of the bundle (the union of the entries)',
  );
  return true;
}

/** Logs (warn) when a restricted caller's Envoy reports a version that ignores the matchers (validator-choice.ts). */
export function warnIfPeersIgnored(entries: readonly RegistrationEntry[], ignores: boolean, logger: { warn(details: object, message: string): void }): void {
  if (!ignores || allowedPeersOf(entries) === undefined) return;
  logger.warn(
    { holds: entries.map((entry) => entry.spiffeId) },
    'this Envoy reports a version below 1.20.2, which ignores match_typed_subject_alt_names: allowedPeers are sent but not enforced by it',
  );
}
