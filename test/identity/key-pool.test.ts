import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyPool, type PooledKey } from '../../src/identity/key-pool';

/** A generator the test completes by hand, so "ready" and "still generating" are explicit. */
function manualGenerator() {
  const pending: { promise: Promise<PooledKey>; resolve: (key: PooledKey) => void }[] = [];
  let made = 0;
  return {
    generate: (): Promise<PooledKey> => {
      let resolve: (key: PooledKey) => void = () => undefined;
      const promise = new Promise<PooledKey>((settle) => (resolve = settle));
      pending.push({ promise, resolve });
      return promise;
    },
    /**
     * Completes every generation started so far. The returned promise settles after the pool's
     * own handlers of those generations ran: reactions run in the order they were attached, and
     * the pool attached its handlers when it started each generation.
     */
    finishAll: async (): Promise<void> => {
      const finishing = pending.splice(0);
      for (const { resolve } of finishing) {
        made++;
        resolve({ publicKeySpkiDer: Buffer.from([made]), privateKeyPkcs8Der: Buffer.from([made]) });
      }
      await Promise.all(finishing.map(({ promise }) => promise));
    },
    get started() {
      return pending.length;
    },
  };
}

test('a warmed pool hands out ready keys at once and refills in the background', async () => {
  const generator = manualGenerator();
  const pool = new KeyPool('rsa-2048', 3, generator.generate);
  pool.warm();
  pool.warm();
  assert.equal(generator.started, 3, 'warm() is idempotent: three generations, not six');
  await generator.finishAll();
  assert.equal(pool.available, 3);

  const taken = await Promise.all([pool.take(), pool.take()]);
  assert.notDeepEqual(taken[0], taken[1], 'each key is handed out once');
  assert.equal(pool.available, 1);
  assert.equal(generator.started, 2, 'replacements started in the background');
});

test('an empty pool still answers, by generating on demand', async () => {
  const generator = manualGenerator();
  const pool = new KeyPool('rsa-2048', 1, generator.generate);
  const key = pool.take();
  assert.equal(generator.started, 2, 'one refill plus one for this caller');
  await generator.finishAll();
  assert.ok((await key).publicKeySpkiDer.length > 0);
});

test('real RSA keys from the pool are distinct', async () => {
  const pool = new KeyPool('rsa-2048', 2);
  const [a, b] = await Promise.all([pool.take(), pool.take()]);
  assert.ok(a && b && !a.privateKeyPkcs8Der.equals(b.privateKeyPkcs8Der));
});
