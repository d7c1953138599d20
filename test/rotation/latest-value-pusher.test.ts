import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { LatestValuePusher } from '../../src/common/latest-value-pusher';

/**
 * An object-mode stream whose consumer only reads when told to (highWaterMark 1: after a write
 * the pusher waits for a drain), or at once when not `stuck`. received() resolves once `count`
 * messages were written.
 */
class StuckReader<T> extends Writable {
  readonly messages: T[] = [];
  private pending: (() => void)[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];
  constructor(private readonly stuck = true) {
    // Stuck: after one write the pusher waits for a drain. Not stuck: write() returns true.
    super({ objectMode: true, highWaterMark: stuck ? 1 : 16 });
  }
  override _write(chunk: T, _encoding: BufferEncoding, callback: () => void): void {
    this.messages.push(chunk);
    if (this.stuck) this.pending.push(callback);
    else callback();
    for (const waiter of this.waiters.filter((candidate) => candidate.count <= this.messages.length)) waiter.resolve();
  }
  received(count: number): Promise<void> {
    if (this.messages.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }
  release(): void {
    const callbacks = this.pending;
    this.pending = [];
    for (const callback of callbacks) callback();
  }
}

/** A render that counts its calls; notify() starts a render synchronously when the pusher is idle. */
function countingRender<T>(value: () => T): { render: () => Promise<{ message: T; fingerprint: string }>; calls: () => number } {
  let calls = 0;
  return {
    render: async () => {
      calls++;
      const message = value();
      return { message, fingerprint: String(message) };
    },
    calls: () => calls,
  };
}

test('a stuck reader holds one message; when it drains it gets only the latest value', async () => {
  const stream = new StuckReader<number>();
  let value = 1;
  const { render, calls } = countingRender(() => value);
  const pusher = new LatestValuePusher<number>(stream, render, (error) => assert.fail(String(error)));

  pusher.notify();
  await stream.received(1);
  assert.deepEqual(stream.messages, [1]);

  for (value = 2; value <= 100; value++) pusher.notify();
  value = 100;
  // The pusher waits for the drain: notifications only mark the slot dirty, nothing is rendered.
  assert.equal(calls(), 1, 'nothing is rendered (so nothing written) while the reader is stuck');

  stream.release();
  await stream.received(2);
  assert.deepEqual(stream.messages, [1, 100], 'after draining, only the latest value is sent');
  assert.equal(calls(), 2, 'one render for the 99 notifications');
});

test('identical consecutive renders are not re-sent unless forgotten', async () => {
  const stream = new StuckReader<string>(false); // reads at once: the pusher is idle after each write
  let value = 'a';
  const pusher = new LatestValuePusher<string>(stream, countingRender(() => value).render, (error) => assert.fail(String(error)));
  pusher.notify();
  await stream.received(1);

  pusher.notify(); // renders 'a' again, the same fingerprint
  value = 'b';
  pusher.notify(); // the marker: rendered after the first render, which read 'a', is done
  await stream.received(2);
  assert.deepEqual(stream.messages, ['a', 'b'], 'the identical render was not sent: the next message is the next value');

  pusher.forgetLastSent();
  pusher.notify();
  await stream.received(3);
  assert.deepEqual(stream.messages, ['a', 'b', 'b'], 'once forgotten, the same content is sent again');
});

test('a render failure reaches onError and closes the pusher', async () => {
  const stream = new StuckReader<string>();
  let renders = 0;
  const { promise: failed, resolve: reportFailure } = deferred<unknown>();
  const errors: unknown[] = [];
  const pusher = new LatestValuePusher<string>(
    stream,
    () => {
      renders++;
      return Promise.reject(new Error('mint failed'));
    },
    (error) => {
      errors.push(error);
      reportFailure(error);
    },
  );
  pusher.notify();
  assert.match(String(await failed), /mint failed/);
  pusher.notify();
  assert.equal(renders, 1, 'closed after the first failure: a notification renders nothing');
  assert.equal(errors.length, 1);
  assert.equal(stream.messages.length, 0);
});

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}
