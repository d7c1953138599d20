/**
 * The one source of time for every decision that depends on it (rotation, expiry, backoff).
 * Production uses the system clock; tests inject test/support/fake-clock.ts and advance it
 * explicitly instead of sleeping.
 */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `callback` once, `delayMs` from now, unless cancelled first. */
  setTimer(delayMs: number, callback: () => void): Timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, callback) {
    // Node timers overflow above 2^31-1 ms (~24.8 days) and fire at once; re-arm in steps.
    const maxDelay = 2_147_483_647;
    let handle: NodeJS.Timeout;
    const arm = (remaining: number): void => {
      handle = setTimeout(() => (remaining > maxDelay ? arm(remaining - maxDelay) : callback()), Math.min(remaining, maxDelay));
      handle.unref();
    };
    arm(Math.max(0, delayMs));
    return { cancel: () => clearTimeout(handle) };
  },
};
