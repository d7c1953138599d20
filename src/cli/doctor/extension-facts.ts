import { oid, TAG } from '../../identity/der';
import { children, contentOf, encodingOf, readElement, type Element } from '../../identity/der-reader';
import { EXT, GENERAL_NAME, KEY_USAGE } from '../../identity/x509-extensions';
import { parseTime } from '../../identity/x509-time';

/**
 * The parts of a certificate the doctor judges, read from the DER with the identity module's
 * reader. Node's X509Certificate renders SANs as one comma-joined string (ambiguous when a name
 * holds a comma) and exposes neither criticality nor the raw basicConstraints/keyUsage bits.
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

export type KeyUsageName = keyof typeof KEY_USAGE;

interface RawExtension {
  readonly critical: boolean;
  readonly value: Buffer;
}

export function readExtensionFacts(der: Buffer): ExtensionFacts {
  const fields = tbsFields(der);
  // version [0] is optional (absent for v1 certificates): skip it when present.
  const base = fields[0]?.tag === 0xa0 ? 1 : 0;
  const validity = fields[base + 3];
  const subject = fields[base + 4];
  if (!validity || !subject) throw new Error('certificate TBSCertificate is incomplete');
  const [notBefore, notAfter] = children(der, validity);
  if (!notBefore || !notAfter) throw new Error('certificate validity is incomplete');

  const extensions = readExtensions(der, fields);
  const san = extensions.get(EXT.subjectAltName);
  const basic = extensions.get(EXT.basicConstraints);
  const usage = extensions.get(EXT.keyUsage);
  const eku = extensions.get(EXT.extKeyUsage);
  return {
    notBefore: parseTime(der, notBefore),
    notAfter: parseTime(der, notAfter),
    subjectEmpty: subject.end === subject.contentStart,
    ...(san && { subjectAltName: { critical: san.critical, ...generalNames(san.value) } }),
    ...(basic && { basicConstraints: { critical: basic.critical, ca: basicConstraintsCa(basic.value) } }),
    ...(usage && { keyUsage: { critical: usage.critical, usages: keyUsages(usage.value) } }),
    ...(eku && { extendedKeyUsage: children(eku.value, readElement(eku.value, 0)).map((element) => dottedOid(contentOf(eku.value, element))) }),
  };
}

function tbsFields(der: Buffer): Element[] {
  const tbs = children(der, readElement(der, 0))[0];
  if (!tbs || tbs.tag !== TAG.SEQUENCE) throw new Error('certificate has no TBSCertificate');
  return children(der, tbs);
}

const KNOWN_EXTENSIONS = Object.values(EXT).map((dotted) => ({ dotted, encoding: oid(dotted) }));

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
function readExtensions(der: Buffer, fields: Element[]): Map<string, RawExtension> {
  const found = new Map<string, RawExtension>();
  const wrapper = fields.find((field) => field.tag === 0xa3);
  const list = wrapper && children(der, wrapper)[0];
  if (!list) return found;
  for (const extension of children(der, list)) {
    const parts = children(der, extension);
    const id = parts[0];
    const value = parts[parts.length - 1];
    const known = id && KNOWN_EXTENSIONS.find(({ encoding }) => encodingOf(der, id).equals(encoding));
    if (!known || !value) continue;
    const flag = parts.length === 3 ? parts[1] : undefined;
    const critical = flag?.tag === TAG.BOOLEAN && contentOf(der, flag)[0] !== 0;
    found.set(known.dotted, { critical, value: Buffer.from(contentOf(der, value)) });
  }
  return found;
}

/** GeneralNames (RFC 5280 §4.2.1.6): URIs and DNS names; other name forms are not judged here. */
function generalNames(value: Buffer): { uris: string[]; dnsNames: string[] } {
  const uris: string[] = [];
  const dnsNames: string[] = [];
  for (const name of children(value, readElement(value, 0))) {
    if (name.tag === GENERAL_NAME.uniformResourceIdentifier) uris.push(contentOf(value, name).toString('latin1'));
    if (name.tag === GENERAL_NAME.dNSName) dnsNames.push(contentOf(value, name).toString('latin1'));
  }
  return { uris, dnsNames };
}

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL } */
function basicConstraintsCa(value: Buffer): boolean {
  const first = children(value, readElement(value, 0))[0];
  return first?.tag === TAG.BOOLEAN && contentOf(value, first)[0] !== 0;
}

/** KeyUsage BIT STRING: bit n is the n-th most significant bit after the unused-bits byte. */
function keyUsages(value: Buffer): Set<KeyUsageName> {
  const bits = contentOf(value, readElement(value, 0));
  const usages = new Set<KeyUsageName>();
  for (const [name, bit] of Object.entries(KEY_USAGE) as [KeyUsageName, number][]) {
    if (((bits[1 + Math.floor(bit / 8)] ?? 0) & (0x80 >> bit % 8)) !== 0) usages.add(name);
  }
  return usages;
}

/** OBJECT IDENTIFIER content to dotted text (X.690 §8.19), for messages and comparisons. */
export function dottedOid(content: Buffer): string {
  const first = content[0] ?? 0;
  const arcs = [Math.min(2, Math.floor(first / 40)), first - Math.min(2, Math.floor(first / 40)) * 40];
  let arc = 0;
  for (const byte of content.subarray(1)) {
    arc = arc * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(arc);
      arc = 0;
    }
  }
  return arcs.join('.');
}
