import { randomBytes } from 'node:crypto';
import { bitString, explicit, sequence, smallInteger, unsignedInteger } from './der';
import type { CertificateSigner } from './signer';

/** version [0] EXPLICIT INTEGER 2 (v3): constant for every certificate meshid makes. */
export const VERSION_V3 = explicit(0, smallInteger(2));

/**
 * 16 random bytes with the top bit cleared (positive) and the next set (no leading zero byte,
 * so the DER INTEGER is 16 bytes): 126 random bits, well above RFC 5280's and CA/B's 64.
 */
export function randomSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  return serial;
}

export const serialInteger = (serial: Buffer): Buffer => unsignedInteger(serial);

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING } */
export async function signCertificate(tbsDer: Buffer, signer: CertificateSigner): Promise<Buffer> {
  const signature = await signer.sign(tbsDer);
  return sequence(tbsDer, signer.signatureAlgorithmDer, bitString(signature));
}
