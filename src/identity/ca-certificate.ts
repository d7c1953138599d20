import { readElement, sequence, time } from './der';
import { randomSerial, serialInteger, signCertificate, VERSION_V3 } from './certificate';
import { keyIdentifierFromSpki, readIssuerParts } from './certificate-parts';
import type { CertificateSigner } from './signer';
import {
  authorityKeyIdentifier,
  basicConstraints,
  distinguishedName,
  KEY_USAGE,
  keyUsage,
  nameConstraintsToTrustDomain,
  subjectAltName,
  subjectKeyIdentifier,
} from './x509-extensions';
import { explicit } from './der';

export interface CaCertificateRequest {
  readonly subjectCommonName: string;
  readonly subjectPublicKeySpkiDer: Buffer;
  /** Without certificateDer the certificate is self-signed (issuer name = subject name). */
  readonly issuer: { readonly certificateDer?: Buffer; readonly signer: CertificateSigner };
  readonly trustDomain: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** basicConstraints pathLenConstraint; omitted = no limit. */
  readonly pathLength?: number;
  readonly nameConstrainToTrustDomain?: boolean;
}

/**
 * A signing certificate (root or intermediate). Its SPIFFE ID is the trust domain itself, with
 * no path, as the X509-SVID spec requires of signing certificates (§4.1, §5.1).
 */
export async function createCaCertificate(request: CaCertificateRequest): Promise<Buffer> {
  const subject = distinguishedName('meshid', request.subjectCommonName);
  const subjectKeyId = keyIdentifierFromSpki(request.subjectPublicKeySpkiDer);
  const issuer = request.issuer.certificateDer ? readIssuerParts(request.issuer.certificateDer) : { subjectNameDer: subject, keyIdentifier: subjectKeyId };
  readElement(request.subjectPublicKeySpkiDer, 0); // fail early on a malformed key

  const extensions = [
    basicConstraints(true, request.pathLength),
    keyUsage([KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]),
    subjectKeyIdentifier(subjectKeyId),
    authorityKeyIdentifier(issuer.keyIdentifier),
    subjectAltName([`spiffe://${request.trustDomain}`], []),
    ...(request.nameConstrainToTrustDomain ? [nameConstraintsToTrustDomain(request.trustDomain)] : []),
  ];
  const tbs = sequence(
    VERSION_V3,
    serialInteger(randomSerial()),
    request.issuer.signer.signatureAlgorithmDer,
    issuer.subjectNameDer,
    sequence(time(request.notBefore), time(request.notAfter)),
    subject,
    request.subjectPublicKeySpkiDer,
    explicit(3, sequence(...extensions)),
  );
  return signCertificate(tbs, request.issuer.signer);
}
