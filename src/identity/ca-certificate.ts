import { MeshidError } from '../common/errors';
import { randomSerialInteger, signCertificate, VERSION_V3 } from './certificate';
import { keyIdentifierFromSpki, readIssuerParts, samePublicKey } from './certificate-parts';
import { explicit, sequence } from './der';
import type { CertificateSigner } from './signer';
import { validateTrustDomain } from './spiffe-id';
import { encodeTime } from './x509-time';
import {
  authorityKeyIdentifier,
  basicConstraints,
  distinguishedName,
  KEY_USAGE,
  keyUsage,
  MAX_COMMON_NAME,
  nameConstraintsToTrustDomain,
  subjectAltName,
  subjectKeyIdentifier,
} from './x509-extensions';

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
  /** Critical nameConstraints permitting only URIs whose host is the trust domain. */
  readonly nameConstrainToTrustDomain?: boolean;
}

/**
 * A signing certificate (root or intermediate), built with the composing DER helpers: this is
 * the rare path (one per CA rotation). Signing goes through CertificateSigner so an HSM can do
 * it. Its SPIFFE ID is the trust domain itself, with no path, as the X509-SVID spec requires of
 * signing certificates (§3, §4.1).
 */
export async function createCaCertificate(request: CaCertificateRequest): Promise<Buffer> {
  const { issuer, trustDomain } = request;
  const problem = validateTrustDomain(trustDomain);
  if (problem) throw new MeshidError('INVALID_CONFIG', problem);
  if (!(request.notAfter.getTime() > request.notBefore.getTime())) throw new MeshidError('INTERNAL', 'CA certificate notAfter must be after notBefore');

  // The CN is cosmetic (the identity is the URI SAN), so an over-long one is cut, not refused.
  const commonName = [...request.subjectCommonName].slice(0, MAX_COMMON_NAME).join('');
  const subject = distinguishedName('meshid', commonName);
  const subjectKeyId = keyIdentifierFromSpki(request.subjectPublicKeySpkiDer);
  const issuerParts = issuer.certificateDer
    ? readIssuerParts(issuer.certificateDer)
    : { subjectNameDer: subject, keyIdentifier: subjectKeyId, subjectPublicKeyInfoDer: request.subjectPublicKeySpkiDer };
  // A signer whose key is not the issuer's would produce a certificate no one can verify.
  if (!sameKeyOrMalformed(issuerParts.subjectPublicKeyInfoDer, issuer.signer.publicKeySpkiDer)) {
    throw new MeshidError('UPSTREAM', issuer.certificateDer ? 'the signer key does not belong to the issuer certificate' : 'a self-signed certificate must be signed by its own key');
  }

  const extensions = [
    basicConstraints(true, request.pathLength), // RFC 5280 §4.2.1.9
    keyUsage([KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]), // §4.2.1.3
    subjectKeyIdentifier(subjectKeyId), // §4.2.1.2: required in CA certificates
    authorityKeyIdentifier(issuerParts.keyIdentifier), // §4.2.1.1 (self-signed: its own SKI)
    subjectAltName([`spiffe://${trustDomain}`], []),
    ...(request.nameConstrainToTrustDomain ? [nameConstraintsToTrustDomain(trustDomain)] : []),
  ];
  const tbs = sequence(
    VERSION_V3,
    randomSerialInteger(),
    issuer.signer.signatureAlgorithmDer,
    issuerParts.subjectNameDer,
    sequence(encodeTime(request.notBefore), encodeTime(request.notAfter)),
    subject,
    request.subjectPublicKeySpkiDer,
    explicit(3, sequence(...extensions)),
  );
  return signCertificate(tbs, issuer.signer);
}


function sameKeyOrMalformed(a: Buffer, b: Buffer): boolean {
  try {
    return samePublicKey(a, b);
  } catch {
    throw new MeshidError('UPSTREAM', 'a CA certificate request holds a malformed public key');
  }
}
