import { MeshidError } from '../common/errors';

/**
 * Caps on what one request, or one stream, may ask for (issue 14, findings 3 and 4). Every local
 * process can call; without caps a registered workload made the agent hold millions of Delta
 * subscriptions (1.77 GB RSS, or a heap OOM under the shipped 192 MB limit) and sign 6.9 MB
 * JWTs. The caps sit far above real use: Envoy opens one SDS stream per secret name and
 * subscribes to one or two names on it; SPIFFE clients ask for a JWT with one audience or a few.
 * What one caller holds across all its streams is capped per uid (caller-budget.ts, with the
 * maxStreamsPerUid and maxSubscriptionsPerUid below).
 *
 * Each check costs O(size of the request), never O(what the stream already holds), so a refused
 * request is cheap however much was subscribed before. A refusal ends only that call or stream:
 * - a count over a cap → RESOURCE_EXHAUSTED (LIMIT_EXCEEDED): the request may be well formed, it
 *   asks for more than the agent grants one caller; Envoy retries a stream with backoff;
 * - a name or audience longer than any valid one → INVALID_ARGUMENT (INVALID_REQUEST): the
 *   request is malformed, and clients stop retrying it (SPIFFE Workload API "Error codes").
 */
export const REQUEST_LIMITS = {
  /** Names in one SotW/Fetch request, or subscribed in one Delta request. */
  maxNamesPerRequest: 1024,
  /** Names one Delta stream holds subscribed at a time (SotW: the request's list is the set). */
  maxNamesPerStream: 4096,
  /** A SPIFFE ID is at most 2048 bytes (SPIFFE ID §2.3); meshid's other names are shorter. */
  maxNameLength: 2048,
  /** Audiences in one FetchJWTSVID request. */
  maxAudiences: 64,
  /** Bytes of one audience (JWT `aud` value; a URI in practice, so the same bound as names). */
  maxAudienceLength: 2048,
  /**
   * SDS streams one uid holds open, over all its connections (caller-budget.ts). An Envoy opens
   * one SDS stream per distinct secret config (a handful; hundreds with many clusters and
   * listeners), and every Envoy of a node may run under one uid (Kubernetes pods often share
   * one), so this leaves room for hundreds of Envoys of one uid on a node.
   */
  maxStreamsPerUid: 4096,
  /**
   * Names subscribed across all SDS streams of one uid: 16 streams filled to maxNamesPerStream,
   * or 16 names on every stream at maxStreamsPerUid (real streams hold one or two). At about
   * 850 bytes per subscribed name (issue 14's Delta flood: 1.7 GB for 2 million) that is about
   * 56 MB at most per uid, under the 192 MB heap the shipped manifest sets.
   */
  maxSubscriptionsPerUid: 65_536,
} as const;

function checkCount(count: number, cap: number, what: string): void {
  if (count > cap) throw new MeshidError('LIMIT_EXCEEDED', `${what}: ${count} exceeds the limit of ${cap}`);
}

function checkLengths(values: readonly string[], cap: number, what: string): void {
  for (const value of values) {
    // UTF-16 length bounds the UTF-8 length from below by at most 3×; a cheap first test.
    if (value.length > cap || Buffer.byteLength(value) > cap) throw new MeshidError('INVALID_REQUEST', `${what} of ${Buffer.byteLength(value)} bytes exceeds the limit of ${cap}`);
  }
}

/** SotW StreamSecrets and FetchSecrets: the request's names are the whole subscription. */
export function checkSotwNames(names: readonly string[]): void {
  checkCount(names.length, REQUEST_LIMITS.maxNamesPerRequest, 'resource_names');
  checkLengths(names, REQUEST_LIMITS.maxNameLength, 'a resource name');
}

/**
 * DeltaSecrets: `subscribed` is the stream's current subscription set (only looked up, never
 * iterated). Checked before anything of the request is applied.
 */
export function checkDeltaSubscriptions(subscribe: readonly string[], unsubscribe: readonly string[], subscribed: ReadonlyMap<string, unknown>): void {
  checkCount(subscribe.length, REQUEST_LIMITS.maxNamesPerRequest, 'resource_names_subscribe');
  checkCount(unsubscribe.length, REQUEST_LIMITS.maxNamesPerRequest, 'resource_names_unsubscribe');
  checkLengths(subscribe, REQUEST_LIMITS.maxNameLength, 'a resource name');
  const cap = REQUEST_LIMITS.maxNamesPerStream;
  if (subscribed.size + subscribe.length <= cap) return; // the common case, O(1)
  checkCount(deltaSubscribedAfter(subscribe, unsubscribe, subscribed), cap, 'subscribed names on this stream');
}

/**
 * How many names a Delta stream holds subscribed once the request is applied, in O(size of the
 * request): unsubscriptions apply first, names subscribed again add nothing. The wildcard counts
 * as a name here (an overcount by one, corrected once the request is applied).
 */
export function deltaSubscribedAfter(subscribe: readonly string[], unsubscribe: readonly string[], subscribed: ReadonlyMap<string, unknown>): number {
  const leaving = new Set(unsubscribe.filter((name) => subscribed.has(name)));
  const joining = new Set(subscribe.filter((name) => !subscribed.has(name) || leaving.has(name)));
  return subscribed.size - leaving.size + joining.size;
}

/** FetchJWTSVID audiences (ValidateJWTSVID's single audience goes through the length check). */
export function checkAudiences(audiences: readonly string[]): void {
  checkCount(audiences.length, REQUEST_LIMITS.maxAudiences, 'audience');
  checkLengths(audiences, REQUEST_LIMITS.maxAudienceLength, 'an audience');
}
