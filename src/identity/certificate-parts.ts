import { createHash } from 'node:crypto';
import { children, contentOf, encodingOf, readElement, TAG, type Element } from './der';
import { EXT } from './x509-extensions';
import { oid } from './der';

/** What a certificate's issuer contributes to the certificates it signs. */
export interface IssuerParts {
  /** The issuer's subject Name, byte for byte, so chains match under every verifier. */
  readonly subjectNameDer: Buffer;
  /** The issuer's key identifier (its SKI extension, else SHA-1 of its public key bits). */
  readonly keyIdentifier: Buffer;
  readonly notAfter: Date;
}

const SKI_OID = oid(EXT.subjectKeyIdentifier);
const KEY_USAGE_OID = oid(EXT.keyUsage);

export function readIssuerParts(certificateDer: Buffer): IssuerParts {
  const certificate = readElement(certificateDer, 0);
  const [tbs] = children(certificateDer, certificate);
  if (!tbs) throw new Error('certificate has no TBSCertificate');
  const fields = children(certificateDer, tbs);
  // version [0] is optional (absent for v1 certificates): skip it when present.
  const base = fields[0]?.tag === 0xa0 ? 1 : 0;
  const validity = fields[base + 3];
  const subject = fields[base + 4];
  const spki = fields[base + 5];
  if (!validity || !subject || !spki) throw new Error('certificate TBSCertificate is incomplete');
  const notAfterElement = children(certificateDer, validity)[1];
  if (!notAfterElement) throw new Error('certificate validity has no notAfter');
  return {
    subjectNameDer: Buffer.from(encodingOf(certificateDer, subject)),
    keyIdentifier: findSubjectKeyIdentifier(certificateDer, fields) ?? spkiKeyIdentifier(certificateDer, spki),
    notAfter: parseTime(certificateDer, notAfterElement),
  };
}

function findSubjectKeyIdentifier(der: Buffer, fields: Element[]): Buffer | undefined {
  const value = findExtensionValue(der, fields, SKI_OID);
  return value ? Buffer.from(contentOf(value, readElement(value, 0))) : undefined;
}

/** The extnValue contents (the DER inside the OCTET STRING) of an extension, if present. */
function findExtensionValue(der: Buffer, tbsFields: Element[], oidDer: Buffer): Buffer | undefined {
  const extensionsWrapper = tbsFields.find((field) => field.tag === 0xa3);
  if (!extensionsWrapper) return undefined;
  const [list] = children(der, extensionsWrapper);
  if (!list) return undefined;
  for (const ext of children(der, list)) {
    const parts = children(der, ext);
    const id = parts[0];
    const value = parts[parts.length - 1];
    if (id && value && encodingOf(der, id).equals(oidDer)) return contentOf(der, value);
  }
  return undefined;
}

/**
 * Whether the certificate's keyUsage allows signing certificates. An absent keyUsage extension
 * places no restriction (RFC 5280 §4.2.1.3).
 */
export function allowsCertificateSigning(certificateDer: Buffer): boolean {
  const [tbs] = children(certificateDer, readElement(certificateDer, 0));
  if (!tbs) return false;
  const value = findExtensionValue(certificateDer, children(certificateDer, tbs), KEY_USAGE_OID);
  if (!value) return true;
  const bits = contentOf(value, readElement(value, 0));
  return ((bits[1] ?? 0) & (0x80 >> 5)) !== 0; // bit 5: keyCertSign
}

export function spkiKeyIdentifier(der: Buffer, spki: Element): Buffer {
  const bits = children(der, spki)[1];
  if (!bits) throw new Error('SubjectPublicKeyInfo has no key');
  return createHash('sha1').update(contentOf(der, bits).subarray(1)).digest();
}

/** Key identifier for a bare SubjectPublicKeyInfo. */
export function keyIdentifierFromSpki(spkiDer: Buffer): Buffer {
  return spkiKeyIdentifier(spkiDer, readElement(spkiDer, 0));
}

function parseTime(der: Buffer, element: Element): Date {
  const text = contentOf(der, element).toString('ascii');
  const full = element.tag === TAG.UTC_TIME ? `${Number(text.slice(0, 2)) < 50 ? '20' : '19'}${text}` : text;
  return new Date(Date.UTC(+full.slice(0, 4), +full.slice(4, 6) - 1, +full.slice(6, 8), +full.slice(8, 10), +full.slice(10, 12), +full.slice(12, 14)));
}
