import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMeshidError } from '../../src/common/errors';
import { CallerBudget, type BudgetRefusal } from '../../src/serving/caller-budget';
import { REQUEST_LIMITS } from '../../src/serving/request-limits';

const limitExceeded = (pattern: RegExp) => (error: unknown) => isMeshidError(error, 'LIMIT_EXCEEDED') && pattern.test(error.message);

test('the shipped per-caller caps sit above the per-stream ones', () => {
  assert.equal(REQUEST_LIMITS.maxStreamsPerUid, 4096);
  assert.equal(REQUEST_LIMITS.maxSubscriptionsPerUid, 65_536);
  assert.ok(REQUEST_LIMITS.maxSubscriptionsPerUid >= REQUEST_LIMITS.maxNamesPerStream);
});

test('streams per uid: the one past the cap is refused, other uids are not, a release frees a slot', () => {
  const refusals: [BudgetRefusal, number][] = [];
  const budget = new CallerBudget({ maxStreamsPerUid: 3, maxSubscriptionsPerUid: 100 }, (refusal, uid) => refusals.push([refusal, uid]));
  const leases = [budget.openStream(1000), budget.openStream(1000), budget.openStream(1000)];
  assert.throws(() => budget.openStream(1000), limitExceeded(/uid 1000\): 4 exceeds the limit of 3/));
  assert.deepEqual(refusals, [['streams_per_uid', 1000]]);
  assert.deepEqual(budget.usage(1000), { streams: 3, subscriptions: 0 }, 'a refused stream takes nothing');
  budget.openStream(1001).release();
  leases[0]?.release();
  leases[0]?.release(); // twice: no effect
  assert.deepEqual(budget.usage(1000), { streams: 2, subscriptions: 0 });
  budget.openStream(1000);
  assert.throws(() => budget.openStream(1000));
});

test('subscriptions per uid are summed over its streams; a refused resize changes nothing; release gives them back', () => {
  const budget = new CallerBudget({ maxStreamsPerUid: 10, maxSubscriptionsPerUid: 10 });
  const a = budget.openStream(7);
  const b = budget.openStream(7);
  a.resize(6);
  b.resize(4);
  assert.throws(() => b.resize(5), limitExceeded(/uid 7\): 11 exceeds the limit of 10/));
  assert.deepEqual(budget.usage(7), { streams: 2, subscriptions: 10 });
  b.resize(2); // shrinking never throws
  a.resize(8);
  assert.deepEqual(budget.usage(7), { streams: 2, subscriptions: 10 });
  const other = budget.openStream(8);
  other.resize(10); // another uid has its own budget
  a.release();
  a.resize(10); // after release: nothing
  assert.deepEqual(budget.usage(7), { streams: 1, subscriptions: 2 });
  b.release();
  assert.deepEqual(budget.usage(7), { streams: 0, subscriptions: 0 });
  budget.openStream(7).resize(10);
});

test('a shrink after an over-cap total (the cap is checked on growth only) never throws', () => {
  const budget = new CallerBudget({ maxStreamsPerUid: 10, maxSubscriptionsPerUid: 4 });
  const a = budget.openStream(1);
  a.resize(4);
  a.resize(4); // same count: allowed at the cap
  a.resize(0);
  assert.deepEqual(budget.usage(1), { streams: 1, subscriptions: 0 });
});
