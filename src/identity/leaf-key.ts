import { createECDH, type ECDH } from 'node:crypto';
import { encodeRawEcKey } from './ec-key-encoding';
import { KeyPool } from './key-pool';
import { isRsa, generateKey, type KeyType } from './key-type';

export interface LeafKey {
  readonly publicKeySpkiDer: Buffer;
  readonly privateKeyPkcs8Der: Buffer;
}

/** RSA keys held ready per key type; enough for a small burst of first fetches at start. */
export const RSA_POOL_SIZE = 4;

/**
 * Where leaf key pairs come from, in the two DER encodings an SVID needs (a leaf key is only
 * ever exported, never used here, so no KeyObject is made for it). One per agent, given to every
 * minter the node CA makes (NodeCa option), so the RSA pools survive intermediate rotations.
 *
 * P-256 keys come from ECDH.generateKeys() on the main thread, not generateKeyPair() on the
 * thread pool. Measured on Node 20 / OpenSSL 3.0 (per key): generateKeyPair costs ~58 µs of
 * CPU, and getting its bytes out then costs another ~34 µs (JWK) to ~200 µs (DER) *on the main
 * thread*, as OpenSSL first converts the provider key; ECDH.generateKeys() + getPrivateKey() is
 * ~17 µs in all. The "async" route thus takes more main-thread time, and ~5x the CPU.
 * P-384 (~1.5 ms per key: OpenSSL 3.0 has no fast P-384 code) and RSA (tens to hundreds of ms)
 * are the other way round: the key generation dominates, would stall the event loop, and
 * parallelises, so they stay on the thread pool. bench/mint.ts shows both effects.
 */
export class LeafKeySource {
  private p256: ECDH | undefined;
  private readonly rsaPools = new Map<KeyType, KeyPool>();

  generate(keyType: KeyType): LeafKey | Promise<LeafKey> {
    if (keyType === 'ec-p256') {
      this.p256 ??= createECDH('prime256v1');
      // generateKeys() replaces the instance's key pair on each call, so one instance serves
      // all; it returns the uncompressed point (getPublicKey() would convert it again).
      const point = this.p256.generateKeys();
      return encodeRawEcKey('P-256', this.p256.getPrivateKey(), point);
    }
    if (isRsa(keyType)) return this.rsaPool(keyType).take();
    return generateKey(keyType);
  }

  /**
   * Starts generating keys of a slow type before the first request needs one (called when a
   * minter is created, i.e. at agent start and after each intermediate rotation). A no-op for EC.
   */
  prewarm(keyType: KeyType): void {
    if (isRsa(keyType)) this.rsaPool(keyType).warm();
  }

  private rsaPool(keyType: KeyType): KeyPool {
    let pool = this.rsaPools.get(keyType);
    if (!pool) {
      pool = new KeyPool(keyType, RSA_POOL_SIZE);
      this.rsaPools.set(keyType, pool);
    }
    return pool;
  }
}
