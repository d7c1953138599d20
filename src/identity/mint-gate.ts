/**
 * Bounds how many mints are in flight at once. A P-256 leaf key is generated synchronously on
 * the main thread (leaf-key.ts explains why that is the fast path), so 2,000 mints started in one
 * tick would hold the event loop for the whole storm and every unrelated call would wait behind
 * it. With a bound, a new mint starts only when an earlier one's signature comes back from the
 * thread pool, so I/O (new connections, other calls) is served between them. bench/storm.ts
 * measures the bystander latency this buys; bench/mint.ts that throughput is kept.
 */
export class MintGate {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.inFlight++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter, so inFlight never exceeds the limit.
      if (next) next();
      else this.inFlight--;
    }
  }
}
