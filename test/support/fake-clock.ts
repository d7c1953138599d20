import type { Clock, Timer } from '../../src/common/clock';

interface Pending {
  dueAt: number;
  sequence: number;
  callback: () => void;
  cancelled: boolean;
}

/** A clock that moves only when a test says so. Timers fire in due order during advance(). */
export class FakeClock implements Clock {
  private current: number;
  private sequence = 0;
  private pending: Pending[] = [];

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    const entry: Pending = { dueAt: this.current + Math.max(0, delayMs), sequence: this.sequence++, callback, cancelled: false };
    this.pending.push(entry);
    return { cancel: () => { entry.cancelled = true; } };
  }

  /** Number of timers still waiting to fire. */
  get pendingTimers(): number {
    return this.pending.filter((entry) => !entry.cancelled).length;
  }

  /**
   * Moves time forward by `ms`, firing each due timer at its own due time. Between timers it
   * yields to the event loop so async work started by one timer (minting, pushes) can finish.
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      this.pending = this.pending.filter((entry) => !entry.cancelled);
      this.pending.sort((a, b) => a.dueAt - b.dueAt || a.sequence - b.sequence);
      const next = this.pending[0];
      if (!next || next.dueAt > target) break;
      this.pending.shift();
      this.current = Math.max(this.current, next.dueAt);
      next.callback();
      await settle();
    }
    this.current = target;
    await settle();
  }
}

/** Lets pending promise chains and I/O callbacks (thread-pool crypto) run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}
