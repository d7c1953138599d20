import type { Logger } from 'pino';
import type { Clock } from './clock';

/**
 * A warning that a flood would otherwise repeat thousands of times a second: logged at most once
 * per interval per key, with the number of occurrences suppressed since the last line.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly intervalMs = 10_000,
  ) {}

  warn(key: string, fields: Record<string, unknown>, message: string): void {
    const now = this.clock.now();
    const seen = this.last.get(key);
    if (seen && now - seen.at < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    this.logger.warn({ ...fields, ...(seen?.suppressed ? { suppressedSinceLastLog: seen.suppressed } : {}) }, message);
    this.last.set(key, { at: now, suppressed: 0 });
  }
}
