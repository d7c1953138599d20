import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { LatestValuePusher } from '../../src/common/latest-value-pusher';
import { settle } from '../support/fake-clock';

/** An object-mode stream whose consumer only reads when told to. */
class StuckReader extends Writable {
  readonly received: number[] = [];
  private pending: (() => void)[] = [];
  constructor() {
    super({ objectMode: true, highWaterMark: 1 });
  }
  override _write(chunk: number, _encoding: BufferEncoding, callback: () => void): void {
    this.received.push(chunk);
    this.pending.push(callback);
  }
  release(): void {
    const callbacks = this.pending;
    this.pending = [];
    for (const callback of callbacks) callback();
  }
}

test('a stuck reader holds one message; when it drains it gets only the latest value', async () => {
  const stream = new StuckReader();
  let value = 0;
  const pusher = new LatestValuePusher<number>(stream, async () => ({ message: value, fingerprint: String(value) }), (error) => assert.fail(String(error)));

  value = 1;
  pusher.notify();
  await settle();
  assert.deepEqual(stream.received, [1]);

  for (value = 2; value <= 100; value++) pusher.notify();
  value = 100;
  await settle();
  assert.deepEqual(stream.received, [1], 'nothing more is written while the reader is stuck');

  stream.release();
  await settle();
  assert.deepEqual(stream.received, [1, 100], 'after draining, only the latest value is sent');
});

test('identical consecutive renders are not re-sent unless forgotten', async () => {
  const stream = new StuckReader();
  const pusher = new LatestValuePusher<string>(stream, async () => ({ message: 'same', fingerprint: 'same' }), (error) => assert.fail(String(error)));
  pusher.notify();
  await settle();
  stream.release();
  pusher.notify();
  await settle();
  assert.equal(stream.received.length, 1);
  pusher.forgetLastSent();
  pusher.notify();
  await settle();
  assert.equal(stream.received.length, 2);
});

test('a render failure reaches onError and closes the pusher', async () => {
  const stream = new StuckReader();
  const errors: unknown[] = [];
  const pusher = new LatestValuePusher<string>(stream, () => Promise.reject(new Error('mint failed')), (error) => errors.push(error));
  pusher.notify();
  await settle();
  assert.equal(errors.length, 1);
  pusher.notify();
  await settle();
  assert.equal(errors.length, 1, 'closed after the first failure');
  assert.equal(stream.received.length, 0);
});
