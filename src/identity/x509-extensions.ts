import { booleanTrue, explicit, implicitPrimitive, octetString, oid, sequence, set, smallInteger, tlv, utf8String, TAG } from './der';

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
export function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), booleanTrue(), octetString(value)) : sequence(oid(id), octetString(value));
}

export const EXT = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
} as const;

/** KeyUsage BIT STRING (RFC 5280 §4.2.1.3): bit 0 digitalSignature … bit 6 cRLSign. */
function keyUsageBits(bits: number[]): Buffer {
  let byte = 0;
  for (const bit of bits) byte |= 0x80 >> bit;
  let unused = 0;
  while (unused < 7 && (byte & (1 << unused)) === 0) unused++;
  return tlv(TAG.BIT_STRING, Buffer.from([unused, byte]));
}

export const KEY_USAGE = {
  digitalSignature: 0,
  keyEncipherment: 2,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

export const keyUsage = (bits: number[]): Buffer => extension(EXT.keyUsage, true, keyUsageBits(bits));

/** cA=false is the DEFAULT, so a leaf's BasicConstraints is an empty SEQUENCE (DER omits defaults). */
export const basicConstraints = (ca: boolean, pathLength?: number): Buffer =>
  extension(EXT.basicConstraints, true, ca ? sequence(booleanTrue(), ...(pathLength === undefined ? [] : [smallInteger(pathLength)])) : sequence());

/** id-kp-serverAuth and id-kp-clientAuth: SVIDs are used on both ends of mTLS (X509-SVID §4.4). */
export const extKeyUsageServerClient = (): Buffer => extension(EXT.extKeyUsage, false, sequence(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2')));

export const subjectKeyIdentifier = (keyId: Buffer): Buffer => extension(EXT.subjectKeyIdentifier, false, octetString(keyId));

/** AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING } */
export const authorityKeyIdentifier = (keyId: Buffer): Buffer => extension(EXT.authorityKeyIdentifier, false, sequence(implicitPrimitive(0, keyId)));

/** GeneralNames: uniformResourceIdentifier [6] and dNSName [2], both IA5String. */
export function subjectAltName(uris: readonly string[], dnsNames: readonly string[]): Buffer {
  const names = [...uris.map((uri) => implicitPrimitive(6, Buffer.from(uri, 'ascii'))), ...dnsNames.map((dns) => implicitPrimitive(2, Buffer.from(dns, 'ascii')))];
  return extension(EXT.subjectAltName, false, sequence(...names));
}

/**
 * Permits only URIs whose host is the trust domain (RFC 5280 §4.2.1.10: a URI constraint is a
 * host name). A stolen node intermediate then cannot mint identities of another trust domain.
 */
export function nameConstraintsToTrustDomain(trustDomain: string): Buffer {
  const subtree = sequence(implicitPrimitive(6, Buffer.from(trustDomain, 'ascii')));
  return extension(EXT.nameConstraints, true, sequence(explicit(0, subtree)));
}

/** Name with O and optional CN, as UTF8String (RFC 5280 §4.1.2.6 prefers UTF8String). */
export function distinguishedName(organization: string, commonName?: string): Buffer {
  const rdn = (attribute: string, value: string): Buffer => set(sequence(oid(attribute), utf8String(value)));
  return sequence(rdn('2.5.4.10', organization), ...(commonName ? [rdn('2.5.4.3', commonName)] : []));
}
