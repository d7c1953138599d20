import { createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { encodeEcKey } from './ec-key-encoding';

export const KEY_TYPES = ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export interface GeneratedKey {
  readonly privateKey: KeyObject;
  readonly publicKeySpkiDer: Buffer;
  readonly privateKeyPkcs8Der: Buffer;
}

export function isRsa(keyType: KeyType): boolean {
  return keyType.startsWith('rsa-');
}

/**
 * Generates a key pair on the libuv thread pool (the callback form of generateKeyPair), so
 * generating many uses every core. No encoding is requested from generateKeyPair: Node runs it
 * on the main thread after the job, through OpenSSL 3.0's slow encoders (~210 µs per P-256
 * key); EC keys are encoded by ec-key-encoding.ts instead (~34 µs). Leaf keys: see leaf-key.ts.
 */
export function generateKey(keyType: KeyType): Promise<GeneratedKey> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, _publicKey: KeyObject, privateKey: KeyObject): void => {
      if (error) return reject(error);
      try {
        resolve(encode(keyType, privateKey));
      } catch (encodingError) {
        reject(encodingError as Error);
      }
    };
    switch (keyType) {
      case 'ec-p256':
        return generateKeyPair('ec', { namedCurve: 'P-256' }, done);
      case 'ec-p384':
        return generateKeyPair('ec', { namedCurve: 'P-384' }, done);
      case 'rsa-2048':
      case 'rsa-3072':
      case 'rsa-4096':
        return generateKeyPair('rsa', { modulusLength: Number(keyType.slice(4)), publicExponent: 0x10001 }, done);
    }
  });
}

function encode(keyType: KeyType, privateKey: KeyObject): GeneratedKey {
  switch (keyType) {
    case 'ec-p256':
      return { privateKey, ...encodeEcKey('P-256', privateKey) };
    case 'ec-p384':
      return { privateKey, ...encodeEcKey('P-384', privateKey) };
    default:
      // RSA keygen takes tens of milliseconds or more: the encoder's cost does not register.
      return {
        privateKey,
        publicKeySpkiDer: createPublicKey(privateKey).export({ type: 'spki', format: 'der' }),
        privateKeyPkcs8Der: privateKey.export({ type: 'pkcs8', format: 'der' }),
      };
  }
}
