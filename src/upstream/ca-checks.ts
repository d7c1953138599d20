import { X509Certificate } from 'node:crypto';
import { allowsCertificateSigning } from '../identity/certificate-parts';
import { basicConstraintsCa, pathLengthConstraint } from './certificate-extensions';

/**
 * Start-time checks on upstream CA certificates. Each returns the reason a certificate is
 * unusable, phrased to follow its file name ("<file> expired on …"), or undefined.
 */

export function parseCertificate(der: Buffer): X509Certificate | undefined {
  try {
    return new X509Certificate(der);
  } catch {
    return undefined;
  }
}

export function validityProblem(certificate: X509Certificate, now: Date): string | undefined {
  if (Date.parse(certificate.validTo) <= now.getTime()) return `expired on ${certificate.validTo}`;
  if (Date.parse(certificate.validFrom) > now.getTime()) return `is not valid before ${certificate.validFrom}`;
  return undefined;
}

/**
 * A CA that may sign `casBelow` more CA certificates beneath it: cA=true, keyCertSign when
 * keyUsage is present, and a pathLenConstraint leaving room for them. meshid always puts its node
 * intermediate under the upstream's signing certificate (casBelow = 1 there): an openssl
 * `pathlen:0` intermediate would otherwise load fine and make every SVID chain fail to verify.
 */
export function caProblem(der: Buffer, certificate: X509Certificate, casBelow: number): string | undefined {
  try {
    // certificate.ca also covers OpenSSL's notion of a self-signed v1 root (no extensions at all).
    if (!basicConstraintsCa(der) && !certificate.ca) return 'is not a CA certificate (basicConstraints cA is not true)';
    if (!allowsCertificateSigning(der)) return 'may not sign certificates (keyUsage lacks keyCertSign)';
    const pathLength = pathLengthConstraint(der);
    if (pathLength !== undefined && pathLength < casBelow) {
      return `has basicConstraints pathlen:${pathLength}, leaving no room for the ${casBelow === 1 ? 'node intermediate' : `${casBelow} CA certificates`} meshid needs below it (needs pathlen >= ${casBelow}, or none)`;
    }
  } catch {
    return 'has extensions that cannot be parsed';
  }
  return undefined;
}

/** Whether `issuer` issued and signed `certificate` (names match and the signature verifies). */
export function isIssuedBy(certificate: X509Certificate, issuer: X509Certificate): boolean {
  return certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey);
}

export function isSelfSigned(certificate: X509Certificate): boolean {
  return isIssuedBy(certificate, certificate);
}
