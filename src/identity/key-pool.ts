import { generateKey, type KeyType } from './key-type';

/** A key in the two encodings an SVID needs. */
export interface PooledKey {
  readonly publicKeySpkiDer: Buffer;
  readonly privateKeyPkcs8Der: Buffer;
}

/**
 * Keys generated ahead of demand, for key types whose generation is slow (RSA: 100 ms to over a
 * second of thread-pool time per key on this class of machine). take() hands out a ready key at
 * once when there is one and starts a replacement in the background, so a request waits for
 * keygen only when more keys are asked for at once than the pool holds.
 */
export class KeyPool {
  private readonly ready: PooledKey[] = [];
  private generating = 0;

  constructor(
    private readonly keyType: KeyType,
    private readonly size: number,
    private readonly generate: (keyType: KeyType) => Promise<PooledKey> = generateKey,
  ) {}

  /** Starts filling the pool (idempotent). */
  warm(): void {
    while (this.ready.length + this.generating < this.size) {
      this.generating++;
      this.generate(this.keyType).then(
        (key) => {
          this.generating--;
          this.ready.push(key);
        },
        () => {
          // A failed background generation is retried by the next take(); nothing waits on it.
          this.generating--;
        },
      );
    }
  }

  take(): Promise<PooledKey> {
    const key = this.ready.shift();
    this.warm();
    return key ? Promise.resolve(key) : this.generate(this.keyType);
  }

  get available(): number {
    return this.ready.length;
  }
}
