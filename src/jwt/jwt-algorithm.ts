import { generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

/** The JWS algorithms meshid signs JWT-SVIDs with (JWT-SVID spec §3 allows RS*, ES*, PS*). */
export const JWT_ALGORITHMS = ['ES256', 'ES384', 'RS256', 'PS256'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export interface JwtKeyPair {
  readonly algorithm: JwtAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const generate = promisify(generateKeyPair);

/** A fresh key pair for `algorithm`, generated on the libuv thread pool. */
export async function generateJwtKeyPair(algorithm: JwtAlgorithm): Promise<JwtKeyPair> {
  switch (algorithm) {
    case 'ES256':
    case 'ES384': {
      const { privateKey, publicKey } = await generate('ec', { namedCurve: algorithm === 'ES256' ? 'P-256' : 'P-384' });
      return { algorithm, privateKey, publicKey };
    }
    case 'RS256':
    case 'PS256': {
      // 2048 bits: the size RFC 7518 §3.3 requires at minimum and what relying parties expect.
      const { privateKey, publicKey } = await generate('rsa', { modulusLength: 2048 });
      return { algorithm, privateKey, publicKey };
    }
  }
}
