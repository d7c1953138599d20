import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drawJitter, rotationTime, shouldRotate } from '../../src/rotation/rotation-time';

const HOUR = 3_600_000;

test('rotates at half-life without jitter', () => {
  assert.equal(rotationTime(0, HOUR, 0), HOUR / 2);
  assert.equal(shouldRotate(HOUR / 2 - 1, 0, HOUR, 0), false);
  assert.equal(shouldRotate(HOUR / 2, 0, HOUR, 0), true);
});

test('jitter moves the rotation by at most ±10 % of the lifetime', () => {
  assert.equal(rotationTime(0, HOUR, 1), HOUR * 0.6);
  assert.equal(rotationTime(0, HOUR, -1), HOUR * 0.4);
  assert.equal(rotationTime(0, HOUR, 5), HOUR * 0.6, 'out-of-range jitter is clamped');
});

test('drawn jitter stays in [-1, 1]', () => {
  assert.equal(drawJitter(() => 0), -1);
  assert.equal(drawJitter(() => 0.5), 0);
  for (let i = 0; i < 1000; i++) {
    const jitter = drawJitter();
    assert.ok(jitter >= -1 && jitter <= 1);
  }
});
