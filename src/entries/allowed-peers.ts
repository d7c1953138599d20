import { isMeshidError, MeshidError } from '../common/errors';
import { SpiffeId } from '../identity/spiffe-id';

/**
 * `allowedPeers` on a registration entry: the SPIFFE IDs a workload holding the entry accepts as
 * TLS peers. Each item is
 * - an exact SPIFFE ID (`spiffe://example.org/web`), matched exactly;
 * - a trust domain ID (`spiffe://other.org`): any ID in it, matched as the prefix `spiffe://other.org/`;
 * - a path prefix ending in `/*` (`spiffe://example.org/ns/prod/*`): any ID below that path, matched as
 *   the prefix `spiffe://example.org/ns/prod/` (not the path itself: `/ns/prod` is not below `/ns/prod`).
 * Prefixes always end in "/", so `spiffe://example.org/ns/prod/*` never admits `…/ns/production`
 * and `spiffe://other.org` never admits `spiffe://other.org.evil`.
 */
export type PeerMatcher = { readonly exact: string } | { readonly prefix: string };

const WILDCARD_SEGMENT = '/*';

/** undefined when `item` is a valid allowedPeers item, else the reason it is not. */
export function allowedPeerProblem(item: string): string | undefined {
  try {
    peerMatcher(item);
    return undefined;
  } catch (error) {
    if (isMeshidError(error)) return error.message;
    throw error;
  }
}

/** The matcher for one allowedPeers item; throws INVALID_SPIFFE_ID saying why an item is not one. */
export function peerMatcher(item: string): PeerMatcher {
  const wildcard = item.endsWith(WILDCARD_SEGMENT);
  const base = wildcard ? item.slice(0, -WILDCARD_SEGMENT.length) : item;
  if (base.includes('*')) {
    throw invalidItem(item, 'a wildcard is allowed only as a final "/*" segment (e.g. spiffe://example.org/ns/prod/*)');
  }
  if (wildcard && !/^spiffe:\/\/[^/]/.test(base)) {
    throw invalidItem(item, 'a "/*" wildcard must follow a trust domain or a path (e.g. spiffe://example.org/ns/prod/*); omit allowedPeers to accept any peer');
  }
  let id: SpiffeId;
  try {
    id = SpiffeId.parse(base);
  } catch (error) {
    if (!isMeshidError(error)) throw error;
    // SpiffeId.parse names the text it parsed; the reason alone reads better after the item.
    const named = `invalid SPIFFE ID ${JSON.stringify(base.length > 200 ? `${base.slice(0, 200)}…` : base)}: `;
    throw invalidItem(item, error.message.startsWith(named) ? error.message.slice(named.length) : error.message);
  }
  if (wildcard || id.isRoot) return { prefix: `${id.toString()}/` };
  return { exact: id.toString() };
}

function invalidItem(item: string, reason: string): MeshidError {
  const shown = JSON.stringify(item.length > 200 ? `${item.slice(0, 200)}…` : item);
  return new MeshidError('INVALID_SPIFFE_ID', `${shown} is not a SPIFFE ID, a trust domain (spiffe://other.org) or a path prefix ending in "/*": ${reason}`);
}

/** A stable text form of a matcher list (versions, cache keys, comparisons). */
export function peerMatchersKey(matchers: readonly PeerMatcher[] | undefined): string {
  return matchers === undefined ? '' : matchers.map((matcher) => ('exact' in matcher ? `=${matcher.exact}` : `^${matcher.prefix}`)).join(' ');
}

/**
 * The peers a caller holding `entries` accepts: the union of its entries' allowedPeers, deduplicated
 * and sorted (so equal policies render equal secrets). undefined means unrestricted: no entry, or at
 * least one entry without allowedPeers (the union with "any peer" is any peer; SPIRE server entries
 * never carry the field, so a caller holding one of those is unrestricted too).
 */
export function allowedPeersOf(entries: readonly { readonly allowedPeers?: readonly string[] }[]): PeerMatcher[] | undefined {
  if (entries.length === 0 || entries.some((entry) => entry.allowedPeers === undefined)) return undefined;
  const byKey = new Map<string, PeerMatcher>();
  for (const item of entries.flatMap((entry) => entry.allowedPeers ?? [])) {
    const matcher = peerMatcher(item);
    byKey.set(peerMatchersKey([matcher]), matcher);
  }
  return [...byKey.keys()].sort().map((key) => byKey.get(key) as PeerMatcher);
}

/** Whether some but not all of `entries` restrict their peers: the restriction is then void (see allowedPeersOf). */
export function partlyRestricted(entries: readonly { readonly allowedPeers?: readonly string[] }[]): boolean {
  const restricted = entries.filter((entry) => entry.allowedPeers !== undefined).length;
  return restricted > 0 && restricted < entries.length;
}
