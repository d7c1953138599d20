import { BOOLEAN_TRUE, explicit, implicitPrimitive, octetString, oid, sequence, set, smallInteger, tlv, utf8String, TAG } from './der';

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
export function extension(id: string, critical: boolean, value: Buffer): Buffer {
  // DER omits a DEFAULT value, so a non-critical extension has no BOOLEAN at all (X.690 §11.5).
  return critical ? sequence(oid(id), BOOLEAN_TRUE, octetString(value)) : sequence(oid(id), octetString(value));
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

export const KEY_USAGE = {
  digitalSignature: 0,
  keyEncipherment: 2,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

/** KeyUsage BIT STRING (RFC 5280 §4.2.1.3), DER with trailing zero bits dropped (X.690 §11.2.2). */
function keyUsageBits(bits: readonly number[]): Buffer {
  let byte = 0;
  for (const bit of bits) byte |= 0x80 >> bit;
  let unused = 0;
  while (unused < 7 && (byte & (1 << unused)) === 0) unused++;
  return tlv(TAG.BIT_STRING, Buffer.from([unused, byte]));
}

/** Always critical: required for CAs (RFC 5280 §4.2.1.3) and for SVIDs (X509-SVID §4.3). */
export const keyUsage = (bits: readonly number[]): Buffer => extension(EXT.keyUsage, true, keyUsageBits(bits));

/**
 * Always critical (RFC 5280 §4.2.1.9 for CAs; X509-SVID §4.1 for leaves). cA=false is the
 * DEFAULT, so a leaf's BasicConstraints value is an empty SEQUENCE.
 */
export const basicConstraints = (ca: boolean, pathLength?: number): Buffer =>
  extension(EXT.basicConstraints, true, ca ? sequence(BOOLEAN_TRUE, ...(pathLength === undefined ? [] : [smallInteger(pathLength)])) : sequence());

/** id-kp-serverAuth and id-kp-clientAuth: SVIDs serve both ends of mTLS (X509-SVID §4.4). */
export const extKeyUsageServerClient = (): Buffer => extension(EXT.extKeyUsage, false, sequence(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2')));

export const subjectKeyIdentifier = (keyId: Buffer): Buffer => extension(EXT.subjectKeyIdentifier, false, octetString(keyId));

/**
 * Everything of a SubjectKeyIdentifier extension before its 20-byte SHA-1 key id, so the leaf
 * template writes the prefix and the hash straight into the TBSCertificate.
 */
export const SKI_PREFIX = subjectKeyIdentifier(Buffer.alloc(20)).subarray(0, -20);

/** AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING } (§4.2.1.1) */
export const authorityKeyIdentifier = (keyId: Buffer): Buffer => extension(EXT.authorityKeyIdentifier, false, sequence(implicitPrimitive(0, keyId)));

/** GeneralNames tags (RFC 5280 §4.2.1.6): both are IMPLICIT IA5String. */
export const GENERAL_NAME = { dNSName: 0x82, uniformResourceIdentifier: 0x86 } as const;

export function subjectAltName(uris: readonly string[], dnsNames: readonly string[]): Buffer {
  const names = [
    ...uris.map((uri) => tlv(GENERAL_NAME.uniformResourceIdentifier, Buffer.from(uri, 'latin1'))),
    ...dnsNames.map((dns) => tlv(GENERAL_NAME.dNSName, Buffer.from(dns, 'latin1'))),
  ];
  return extension(EXT.subjectAltName, false, sequence(...names));
}

/** The SAN extension's OID, for the template that writes the SAN per mint. */
export const SAN_OID = oid(EXT.subjectAltName);

/**
 * Permits only URIs whose host is the trust domain (RFC 5280 §4.2.1.10: a URI constraint is a
 * host name, matched exactly when it has no leading "."). A stolen node intermediate then cannot
 * mint identities of another trust domain. Critical, as §4.2.1.10 requires.
 */
export function nameConstraintsToTrustDomain(trustDomain: string): Buffer {
  const subtree = sequence(implicitPrimitive(6, Buffer.from(trustDomain, 'latin1')));
  return extension(EXT.nameConstraints, true, sequence(explicit(0, subtree)));
}

const ATTRIBUTE = { organization: '2.5.4.10', commonName: '2.5.4.3' } as const;
/** RelativeDistinguishedName with one attribute, UTF8String as RFC 5280 §4.1.2.6 prefers. */
const rdn = (attribute: string, value: string): Buffer => set(sequence(oid(attribute), utf8String(value)));

/** ub-common-name (RFC 5280 Appendix A.1): a longer CN is invalid, so it is left out instead. */
export const MAX_COMMON_NAME = 64;

export function distinguishedName(organization: string, commonName?: string): Buffer {
  if (commonName !== undefined && commonName.length > MAX_COMMON_NAME) throw new RangeError(`common name longer than ${MAX_COMMON_NAME} characters`);
  return sequence(rdn(ATTRIBUTE.organization, organization), ...(commonName ? [rdn(ATTRIBUTE.commonName, commonName)] : []));
}
