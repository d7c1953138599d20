import { AsnConvert } from '@peculiar/asn1-schema';
import {
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  KeyUsage,
  KeyUsageFlags,
  SubjectAlternativeName,
  type Extension,
} from '@peculiar/asn1-x509';
import * as x509 from './peculiar-x509';

/**
 * The parts of a certificate the doctor judges. Node's X509Certificate renders SANs as one
 * comma-joined string (ambiguous when a name holds a comma) and exposes neither criticality nor
 * the raw basicConstraints/keyUsage bits, so these come from @peculiar/x509 (the certificate)
 * and @peculiar/asn1-x509 (each extension with its critical flag), never from meshid's minter.
 */
export interface ExtensionFacts {
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Whether the subject Name has no attributes at all (X509-SVID §3.1 then wants a critical SAN). */
  readonly subjectEmpty: boolean;
  readonly subjectAltName?: { readonly critical: boolean; readonly uris: readonly string[]; readonly dnsNames: readonly string[] };
  /** Absent extension: undefined. cA is false when the extension is present without it. */
  readonly basicConstraints?: { readonly critical: boolean; readonly ca: boolean };
  readonly keyUsage?: { readonly critical: boolean; readonly usages: ReadonlySet<KeyUsageName> };
  /** Dotted OIDs of extendedKeyUsage, when present. */
  readonly extendedKeyUsage?: readonly string[];
}

export type KeyUsageName = keyof typeof KeyUsageFlags;

/** Throws when the DER is not a certificate both parsers accept. */
export function readExtensionFacts(der: Buffer): ExtensionFacts {
  const certificate = new x509.X509Certificate(der);
  // The extensions are read from asn1-x509's structures, not from @peculiar/x509's typed classes:
  // those refuse SAN forms they cannot render (an otherName, an x400Address), which would make a
  // certificate that every TLS stack accepts look unparseable.
  const { tbsCertificate } = AsnConvert.parse(der, Certificate);
  const extensions = tbsCertificate.extensions ?? [];
  const find = (oid: string): Extension | undefined => extensions.find((extension) => extension.extnID === oid);
  const san = find(id_ce_subjectAltName);
  const basic = find(id_ce_basicConstraints);
  const usage = find(id_ce_keyUsage);
  const eku = find(id_ce_extKeyUsage);
  return {
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    subjectEmpty: tbsCertificate.subject.length === 0,
    ...(san && { subjectAltName: { critical: san.critical, ...generalNames(san) } }),
    ...(basic && { basicConstraints: { critical: basic.critical, ca: AsnConvert.parse(basic.extnValue, BasicConstraints).cA } }),
    ...(usage && { keyUsage: { critical: usage.critical, usages: keyUsages(usage) } }),
    ...(eku && { extendedKeyUsage: [...AsnConvert.parse(eku.extnValue, ExtendedKeyUsage)] }),
  };
}

/** GeneralNames (RFC 5280 §4.2.1.6): URIs and DNS names; other name forms are not judged here. */
function generalNames(extension: Extension): { uris: string[]; dnsNames: string[] } {
  const names = [...AsnConvert.parse(extension.extnValue, SubjectAlternativeName)];
  return {
    uris: names.flatMap((name) => (name.uniformResourceIdentifier === undefined ? [] : [name.uniformResourceIdentifier])),
    dnsNames: names.flatMap((name) => (name.dNSName === undefined ? [] : [name.dNSName])),
  };
}

const KEY_USAGE_NAMES = Object.keys(KeyUsageFlags).filter((key): key is KeyUsageName => Number.isNaN(Number(key)));

/** The named bits of a KeyUsage BIT STRING, in bit order. */
function keyUsages(extension: Extension): Set<KeyUsageName> {
  const flags = AsnConvert.parse(extension.extnValue, KeyUsage).toNumber();
  return new Set(KEY_USAGE_NAMES.filter((name) => (flags & KeyUsageFlags[name]) !== 0));
}
