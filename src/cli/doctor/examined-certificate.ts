import { X509Certificate } from 'node:crypto';
import { readExtensionFacts, type ExtensionFacts } from './extension-facts';

/** One certificate under examination: its bytes, Node's view of it, the extension facts and a label. */
export interface ExaminedCertificate {
  readonly der: Buffer;
  readonly x509: X509Certificate;
  readonly facts: ExtensionFacts;
  /** Where it came from, for messages: "chain #1", "bundle #2", "peer #1". */
  readonly label: string;
}

/** undefined when the DER is not a certificate that Node and @peculiar both accept. */
export function examine(der: Buffer, label: string): ExaminedCertificate | undefined {
  try {
    return { der, x509: new X509Certificate(der), facts: readExtensionFacts(der), label };
  } catch {
    return undefined;
  }
}

/**
 * Node renders Names one attribute per line; one line reads better in findings. An empty Name
 * comes back undefined despite the typings (Node 20), hence the optional parameter.
 */
export const nameOf = (name: string | undefined): string => name?.split('\n').join(', ') || '(empty)';

export const subjectOf = (certificate: ExaminedCertificate): string => nameOf(certificate.x509.subject);

/** "chain #2 (CN=Example Intermediate)" */
export const describe = (certificate: ExaminedCertificate): string => `${certificate.label} (${subjectOf(certificate)})`;

export const isSame = (a: ExaminedCertificate, b: ExaminedCertificate): boolean => a.der.equals(b.der);

/**
 * Whether `issuer` signed `certificate`: issuer name = subject name and the signature verifies
 * under its key. Not X509Certificate.checkIssued alone: OpenSSL's check also refuses an issuer
 * whose keyUsage lacks keyCertSign, which would turn a conformance problem of the issuer into
 * a misleading "untrusted" verdict; that problem is reported by its own rule instead.
 */
export function signedBy(certificate: ExaminedCertificate, issuer: ExaminedCertificate): boolean {
  if (certificate.x509.issuer !== issuer.x509.subject) return false;
  try {
    return certificate.x509.verify(issuer.x509.publicKey);
  } catch {
    return false; // e.g. a key type that cannot check this signature algorithm
  }
}

export const isSelfSigned = (certificate: ExaminedCertificate): boolean => signedBy(certificate, certificate);
