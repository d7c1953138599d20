/**
 * Limits on the connections one agent holds (config key `connections`). Every local user can
 * reach the socket, so without them one uid could hold every fd the agent has (issue 14, finding
 * 2). The defaults are far above real use: a node runs a few hundred workloads, each with one or
 * two connections (Envoy multiplexes its SDS streams on one).
 */
export interface ConnectionLimits {
  /** Open connections one uid may hold; the next is refused (closed at accept). */
  readonly maxPerUid: number;
  /** Open connections in total. */
  readonly maxTotal: number;
  /** A connection that has not sent the HTTP/2 connection preface by then is closed. */
  readonly prefaceTimeoutMs: number;
  /** A connection with no open stream for this long is closed (GOAWAY, then the socket). */
  readonly idleTimeoutMs: number;
}

export type Refusal = 'uid_cap' | 'total_cap';

/** Counts open connections per uid and in total; each check costs O(1). */
export class ConnectionCounter {
  private total = 0;
  private readonly perUid = new Map<number, number>();

  constructor(private readonly limits: Pick<ConnectionLimits, 'maxPerUid' | 'maxTotal'>) {}

  /** Takes a slot for `uid`, or says why not; a taken slot is given back with release(). */
  admit(uid: number): Refusal | undefined {
    if (this.total >= this.limits.maxTotal) return 'total_cap';
    const held = this.perUid.get(uid) ?? 0;
    if (held >= this.limits.maxPerUid) return 'uid_cap';
    this.perUid.set(uid, held + 1);
    this.total++;
    return undefined;
  }

  release(uid: number): void {
    const held = this.perUid.get(uid) ?? 0;
    if (held <= 1) this.perUid.delete(uid);
    else this.perUid.set(uid, held - 1);
    this.total = Math.max(0, this.total - 1);
  }

  get open(): number {
    return this.total;
  }
}
