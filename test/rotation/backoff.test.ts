import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from '../../src/common/backoff';

/** A random source that returns the given values in turn. */
const sequence = (...values: number[]): (() => number) => {
  let index = 0;
  return () => values[index++ % values.length] ?? 0;
};

test('the ceiling doubles from the initial delay on each attempt and stops at the maximum', () => {
  const backoff = new Backoff(1_000, 30_000, () => 1);
  const delays = Array.from({ length: 8 }, () => backoff.nextDelayMs());
  assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
});

test('full jitter: the delay is the ceiling times the random draw, never below half the initial delay', () => {
  const backoff = new Backoff(1_000, 60_000, sequence(0.5, 0.25, 0, 0.75));
  assert.equal(backoff.nextDelayMs(), 500, '1 s × 0.5');
  assert.equal(backoff.nextDelayMs(), 500, '2 s × 0.25');
  assert.equal(backoff.nextDelayMs(), 500, '4 s × 0: floored at half the initial delay, never a busy loop');
  assert.equal(backoff.nextDelayMs(), 6_000, '8 s × 0.75');
});

test('reset() starts again from the initial delay', () => {
  const backoff = new Backoff(200, 10_000, () => 1);
  backoff.nextDelayMs();
  backoff.nextDelayMs();
  assert.equal(backoff.nextDelayMs(), 800);
  backoff.reset();
  assert.equal(backoff.nextDelayMs(), 200);
  assert.equal(backoff.nextDelayMs(), 400);
});

test('the defaults are 1 s doubling to 60 s', () => {
  const backoff = new Backoff(undefined, undefined, () => 1);
  const delays = Array.from({ length: 8 }, () => backoff.nextDelayMs());
  assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
});

test('a long outage does not overflow: the ceiling stays at the maximum after thousands of attempts', () => {
  const backoff = new Backoff(1_000, 60_000, () => 1);
  let last = 0;
  for (let attempt = 0; attempt < 5_000; attempt++) last = backoff.nextDelayMs();
  assert.equal(last, 60_000);
});
