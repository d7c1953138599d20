import { MeshidError } from '../common/errors';
import { sequence, unsignedInteger } from './der';

/**
 * PKCS#11's CKM_ECDSA (and WebCrypto, and IEEE P1363) return r and s as two equal-length
 * big-endian halves; X.509 carries ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
 * (RFC 3279 §2.2.3), each INTEGER minimally encoded and non-negative.
 */
export function ecdsaRawToDer(raw: Buffer): Buffer {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new MeshidError('UPSTREAM', `an ECDSA signature of ${raw.length} bytes is not r||s`);
  const half = raw.length / 2;
  return sequence(unsignedInteger(raw.subarray(0, half)), unsignedInteger(raw.subarray(half)));
}
