import { createPublicKey, type KeyObject } from 'node:crypto';
import { bitString, explicit, octetString, oid, sequence, smallInteger } from './der';

/**
 * SubjectPublicKeyInfo (RFC 5480) and PKCS#8 (RFC 5208 + RFC 5915) DER for EC keys, filled in
 * from a KeyObject's JWK export or from raw ECDH output.
 *
 * Why not KeyObject.export({format: 'der'})? With OpenSSL 3.0 that goes through the
 * OSSL_ENCODER machinery: measured ~135 µs (SPKI) + ~75 µs (PKCS#8) per fresh P-256 key on the
 * main thread, more than generating the key; the JWK export is ~34 µs. For a named curve both
 * encodings are fixed templates around the scalar and the point, so they are filled in here.
 * test/identity/key-encoding.test.ts checks the bytes equal OpenSSL's own.
 */
interface CurveTemplate {
  readonly size: number; // bytes per coordinate and per scalar
  readonly spki: Buffer;
  readonly spkiPointOffset: number;
  readonly pkcs8: Buffer;
  readonly pkcs8ScalarOffset: number;
  readonly pkcs8PointOffset: number;
}

const EC_PUBLIC_KEY = '1.2.840.10045.2.1'; // RFC 5480 §2.1.1 id-ecPublicKey

function curveTemplate(curveOid: string, size: number): CurveTemplate {
  const algorithm = sequence(oid(EC_PUBLIC_KEY), oid(curveOid));
  const point = Buffer.alloc(1 + 2 * size, 0);
  point[0] = 0x04; // uncompressed (SEC 1 §2.3.3)
  const spki = sequence(algorithm, bitString(point));
  // RFC 5915 §3 ECPrivateKey inside RFC 5208 PrivateKeyInfo; parameters are omitted inside, as
  // they are already in privateKeyAlgorithm (what OpenSSL writes too).
  const publicKeyField = explicit(1, bitString(point));
  const ecPrivateKey = sequence(smallInteger(1), octetString(Buffer.alloc(size)), publicKeyField);
  const pkcs8 = sequence(smallInteger(0), algorithm, octetString(ecPrivateKey));
  return {
    size,
    spki,
    spkiPointOffset: spki.length - point.length + 1,
    pkcs8,
    pkcs8ScalarOffset: pkcs8.length - publicKeyField.length - size,
    pkcs8PointOffset: pkcs8.length - point.length + 1,
  };
}

export const EC_CURVES = {
  'P-256': curveTemplate('1.2.840.10045.3.1.7', 32),
  'P-384': curveTemplate('1.3.132.0.34', 48),
} as const;

export interface EncodedEcKey {
  readonly publicKeySpkiDer: Buffer;
  readonly privateKeyPkcs8Der: Buffer;
}

export function encodeEcKey(curve: keyof typeof EC_CURVES, privateKey: KeyObject): EncodedEcKey {
  const template = EC_CURVES[curve];
  const jwk = privateKey.export({ format: 'jwk' });
  const spki = Buffer.from(template.spki);
  const pkcs8 = Buffer.from(template.pkcs8);
  const { size } = template;
  // JWK coordinates and scalar are always full length (RFC 7518 §6.2.1.2, §6.2.2.1); checked
  // anyway, so a short value can never leave zeros in a key.
  const complete =
    writeBase64Url(spki, template.spkiPointOffset, jwk.x, size) &&
    writeBase64Url(spki, template.spkiPointOffset + size, jwk.y, size) &&
    writeBase64Url(pkcs8, template.pkcs8ScalarOffset, jwk.d, size);
  if (!complete) {
    return {
      publicKeySpkiDer: createPublicKey(privateKey).export({ type: 'spki', format: 'der' }),
      privateKeyPkcs8Der: privateKey.export({ type: 'pkcs8', format: 'der' }),
    };
  }
  spki.copy(pkcs8, template.pkcs8PointOffset, template.spkiPointOffset, template.spkiPointOffset + 2 * size);
  return { publicKeySpkiDer: spki, privateKeyPkcs8Der: pkcs8 };
}

/**
 * The same encodings from a raw scalar and uncompressed point (what ECDH.generateKeys gives).
 * ECDH.getPrivateKey() drops leading zero bytes (about 1 key in 256), so the scalar is
 * right-aligned in its fixed-size field (RFC 5915 §3: privateKey is ceiling(log2(n)/8) octets).
 */
export function encodeRawEcKey(curve: keyof typeof EC_CURVES, scalar: Buffer, point: Buffer): EncodedEcKey {
  const template = EC_CURVES[curve];
  const { size } = template;
  if (scalar.length > size || point.length !== 1 + 2 * size || point[0] !== 0x04) throw new Error(`EC ${curve}: unexpected raw key sizes`);
  const spki = Buffer.from(template.spki);
  const pkcs8 = Buffer.from(template.pkcs8); // its scalar field is all zeros
  point.copy(spki, template.spkiPointOffset - 1);
  point.copy(pkcs8, template.pkcs8PointOffset - 1);
  scalar.copy(pkcs8, template.pkcs8ScalarOffset + size - scalar.length);
  return { publicKeySpkiDer: spki, privateKeyPkcs8Der: pkcs8 };
}

function writeBase64Url(target: Buffer, offset: number, value: string | undefined, size: number): boolean {
  return value !== undefined && value.length === Math.ceil((size * 4) / 3) && target.write(value, offset, size, 'base64url') === size;
}
