/**
 * Exponential backoff with full jitter (the AWS architecture blog's recommendation, also what
 * grpc's connection backoff approximates): retries of many agents against one upstream spread out.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs = 1_000,
    private readonly maxMs = 60_000,
    private readonly random: () => number = Math.random,
  ) {}

  nextDelayMs(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    this.attempt++;
    return Math.max(this.initialMs / 2, ceiling * this.random());
  }

  reset(): void {
    this.attempt = 0;
  }
}
