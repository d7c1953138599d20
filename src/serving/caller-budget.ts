import { MeshidError } from '../common/errors';

/**
 * Caps on what one caller holds across all its open SDS streams (issue 14, "total subscriptions
 * per caller"). The per-request and per-stream caps (request-limits.ts) bound one stream, but a
 * caller could open streams without end and multiply them. A caller is a uid, the key the
 * connection caps use too (connection-limits.ts): a pid is no bound, since a user can fork as
 * many connectors as the per-uid connection cap lets it.
 */
export interface CallerLimits {
  /** SDS streams (SotW and Delta together) one uid may hold open; the next is refused. */
  readonly maxStreamsPerUid: number;
  /** Names subscribed across all SDS streams of one uid; a request that would pass it is refused. */
  readonly maxSubscriptionsPerUid: number;
}

/** One stream's share of its caller's budget, given back with release() when the stream ends. */
export interface StreamLease {
  /**
   * Sets how many names this stream holds subscribed. Growing past the caller's cap throws
   * LIMIT_EXCEEDED and changes nothing; shrinking never throws. Call it before applying a request
   * (with the count it would leave), and again after, with the exact count.
   */
  resize(count: number): void;
  /** Gives back the stream and its subscriptions; later calls (and resizes) do nothing. */
  release(): void;
}

/** For a caller without a budget (unit tests of the streams). */
export const UNLIMITED_LEASE: StreamLease = { resize: () => undefined, release: () => undefined };

export type BudgetRefusal = 'streams_per_uid' | 'subscriptions_per_uid';

interface Held {
  streams: number;
  subscriptions: number;
}

/** Counts open SDS streams and subscribed names per uid; every operation costs O(1). */
export class CallerBudget {
  private readonly perUid = new Map<number, Held>();

  constructor(
    private readonly limits: CallerLimits,
    /** Told of each refusal (the agent logs it, rate-limited per uid). */
    private readonly onRefused?: (refusal: BudgetRefusal, uid: number) => void,
  ) {}

  /** Takes a stream slot for `uid`, or throws LIMIT_EXCEEDED (RESOURCE_EXHAUSTED) when it holds the maximum. */
  openStream(uid: number): StreamLease {
    const held = this.perUid.get(uid) ?? { streams: 0, subscriptions: 0 };
    const { maxStreamsPerUid, maxSubscriptionsPerUid } = this.limits;
    if (held.streams >= maxStreamsPerUid) {
      this.onRefused?.('streams_per_uid', uid);
      throw new MeshidError('LIMIT_EXCEEDED', `open SDS streams of this caller (uid ${uid}): ${held.streams + 1} exceeds the limit of ${maxStreamsPerUid}`);
    }
    held.streams++;
    this.perUid.set(uid, held);
    let charged = 0;
    let released = false;
    return {
      resize: (count) => {
        if (released) return;
        const total = held.subscriptions - charged + count;
        if (count > charged && total > maxSubscriptionsPerUid) {
          this.onRefused?.('subscriptions_per_uid', uid);
          throw new MeshidError('LIMIT_EXCEEDED', `subscribed names across the SDS streams of this caller (uid ${uid}): ${total} exceeds the limit of ${maxSubscriptionsPerUid}`);
        }
        held.subscriptions = total;
        charged = count;
      },
      release: () => {
        if (released) return;
        released = true;
        held.subscriptions -= charged;
        held.streams--;
        if (held.streams === 0) this.perUid.delete(uid);
      },
    };
  }

  /** What `uid` holds now (tests, debugging). */
  usage(uid: number): { streams: number; subscriptions: number } {
    const held = this.perUid.get(uid);
    return { streams: held?.streams ?? 0, subscriptions: held?.subscriptions ?? 0 };
  }
}
