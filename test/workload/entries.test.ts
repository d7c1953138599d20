import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchingEntries, type RegistrationEntry } from '../../src/workload/entries';

const entry = (spiffeId: string, selectors: string[]): RegistrationEntry => ({ spiffeId, selectors, dnsNames: [] });

test('an entry matches only when all its selectors are among the workload selectors', () => {
  const entries = [entry('spiffe://td/a', ['unix:uid:1000', 'unix:gid:1000']), entry('spiffe://td/b', ['unix:uid:1000']), entry('spiffe://td/c', ['unix:uid:2000'])];
  assert.deepEqual(
    matchingEntries(entries, ['unix:uid:1000', 'unix:gid:5']).map((e) => e.spiffeId),
    ['spiffe://td/b'],
  );
  assert.deepEqual(
    matchingEntries(entries, ['unix:uid:1000', 'unix:gid:1000']).map((e) => e.spiffeId),
    ['spiffe://td/a', 'spiffe://td/b'],
    'several matches keep entry order; the first is the default',
  );
});

test('duplicate SPIFFE IDs yield one SVID; an entry without selectors never matches', () => {
  const entries = [entry('spiffe://td/a', ['unix:uid:1']), entry('spiffe://td/a', ['unix:gid:1']), entry('spiffe://td/z', [])];
  assert.deepEqual(matchingEntries(entries, ['unix:uid:1', 'unix:gid:1']).map((e) => e.spiffeId), ['spiffe://td/a']);
});
