import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BundleAckTracker, type BundleAckState } from '../../src/rotation/bundle-ack-tracker';

/** A stream whose bundle service and ACKed version the test sets. */
function stream(label: string, servesBundle: boolean, acked?: number): BundleAckState & { acked: number | undefined; serves: boolean } {
  const state = {
    label,
    acked,
    serves: servesBundle,
    servesBundle: () => state.serves,
    ackedBundleVersion: () => state.acked,
  };
  return state;
}

test('behind(v) lists the streams serving a bundle whose client has not ACKed v or later', () => {
  const tracker = new BundleAckTracker();
  tracker.register(stream('acked v3', true, 3));
  tracker.register(stream('acked v2', true, 2));
  tracker.register(stream('never acked', true));
  tracker.register(stream('default only', false));
  assert.deepEqual(tracker.behind(2), ['never acked'], 'v2 or later counts; no ACK at all is behind');
  assert.deepEqual(tracker.behind(3), ['acked v2', 'never acked']);
  assert.deepEqual(tracker.behind(4), ['acked v3', 'acked v2', 'never acked'], 'a stream without a validation context is never waited for');
  assert.deepEqual(new BundleAckTracker().behind(1), [], 'no streams, nobody behind');
});

test('behind() reads each stream afresh: a later ACK, or a stream starting to serve a bundle, counts', () => {
  const tracker = new BundleAckTracker();
  const envoy = stream('envoy', true, 1);
  const sidecar = stream('sidecar', false);
  tracker.register(envoy);
  tracker.register(sidecar);
  assert.deepEqual(tracker.behind(2), ['envoy']);
  envoy.acked = 2;
  sidecar.serves = true; // subscribed to ROOTCA since
  assert.deepEqual(tracker.behind(2), ['sidecar']);
});

test('changed() tells every listener; a stream going away counts as a change once and is no longer waited for', () => {
  const tracker = new BundleAckTracker();
  const heard: string[] = [];
  const stopFirst = tracker.onChange(() => heard.push('first'));
  tracker.onChange(() => heard.push('second'));
  const unregister = tracker.register(stream('closing', true));
  assert.deepEqual(heard, [], 'registering is not a change');

  tracker.changed();
  assert.deepEqual(heard, ['first', 'second']);
  unregister();
  assert.deepEqual(heard, ['first', 'second', 'first', 'second'], 'a closed stream may unblock a switch');
  assert.deepEqual(tracker.behind(1), []);
  unregister();
  assert.equal(heard.length, 4, 'unregistering twice changes nothing the second time');

  stopFirst();
  tracker.changed();
  assert.deepEqual(heard.slice(4), ['second'], 'an unsubscribed listener hears nothing more');
});
