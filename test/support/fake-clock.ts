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
  private readonly settledHooks = new Set<() => Promise<void>>();

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
   * Registers what the code under test offers to wait on (SvidStore.settled, an agent's
   * settled()): advance() awaits every hook after each timer it fires, so the work one timer
   * started (minting on the thread pool) is over before the clock moves on. Returns the function
   * that removes the hook.
   */
  waitFor(hook: () => Promise<void>): () => void {
    this.settledHooks.add(hook);
    return () => this.settledHooks.delete(hook);
  }

  /**
   * Moves time forward by `ms`, firing each due timer at its own due time. After each timer it
   * lets the callback's promise chains run and awaits the registered settled hooks (waitFor).
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
      await this.settled();
    }
    this.current = target;
    await this.settled();
  }

  /**
   * One turn of the event loop (a timer callback's promise chains start), then every hook. Not a
   * guess at how many turns are enough: what must be finished is what the hooks wait for.
   */
  private async settled(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    for (const hook of this.settledHooks) await hook();
  }
}
