import { createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';

export const KEY_TYPES = ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export interface GeneratedKey {
  /** Parsed on first use: leaf keys are only ever exported, so most never need a KeyObject. */
  readonly privateKey: KeyObject;
  readonly publicKeySpkiDer: Buffer;
  readonly privateKeyPkcs8Der: Buffer;
}

const DER = { publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'der' } } as const;

/** Generates a key pair on the libuv thread pool, returning the encodings certificates need. */
export function generateKey(keyType: KeyType): Promise<GeneratedKey> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, publicKeySpkiDer: Buffer, privateKeyPkcs8Der: Buffer): void => {
      if (error) return reject(error);
      let parsed: KeyObject | undefined;
      resolve({
        publicKeySpkiDer,
        privateKeyPkcs8Der,
        get privateKey() {
          parsed ??= createPrivateKey({ key: privateKeyPkcs8Der, format: 'der', type: 'pkcs8' });
          return parsed;
        },
      });
    };
    switch (keyType) {
      case 'ec-p256':
        return generateKeyPair('ec', { namedCurve: 'P-256', ...DER }, done);
      case 'ec-p384':
        return generateKeyPair('ec', { namedCurve: 'P-384', ...DER }, done);
      case 'rsa-2048':
      case 'rsa-3072':
      case 'rsa-4096':
        return generateKeyPair('rsa', { modulusLength: Number(keyType.slice(4)), publicExponent: 0x10001, ...DER }, done);
    }
  });
}

export function isRsa(keyType: KeyType): boolean {
  return keyType.startsWith('rsa-');
}
