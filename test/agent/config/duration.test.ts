import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, parseDuration } from '../../../src/agent/config/duration';

test('durations in Go syntax parse to milliseconds', () => {
  const cases: [string, number][] = [
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1m30s500ms', 90_500],
    ['1.5h', 5_400_000],
    ['7d', 604_800_000],
    ['0s', 0],
    [' 45s ', 45_000],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('garbage is rejected, not guessed at', () => {
  for (const text of ['', '10', 's', '-5s', '+5s', '5 s', '1h 30m', '30m1h', '1h1h', '5S', '1y', '1w', 'forever', '1e3s', '.5s', '5.s', 'h1', '1h-30m', '99999999999999999999999d']) {
    assert.equal(parseDuration(text), undefined, JSON.stringify(text));
  }
});

test('formatDuration gives the shortest exact spelling', () => {
  assert.equal(formatDuration(10_000), '10s');
  assert.equal(formatDuration(3_600_000), '1h');
  assert.equal(formatDuration(5_400_000), '90m');
  assert.equal(formatDuration(1_500), '1500ms');
  assert.equal(formatDuration(0), '0s');
});
