import { explicit, sequence, time } from './der';
import { randomSerial, serialInteger, signCertificate, VERSION_V3 } from './certificate';
import { keyIdentifierFromSpki, readIssuerParts } from './certificate-parts';
import { generateKey, isRsa, type KeyType } from './key-type';
import type { CertificateSigner } from './signer';
import type { SpiffeId } from './spiffe-id';
import { MeshidError } from '../errors';
import {
  authorityKeyIdentifier,
  basicConstraints,
  distinguishedName,
  extKeyUsageServerClient,
  KEY_USAGE,
  keyUsage,
  subjectAltName,
  subjectKeyIdentifier,
} from './x509-extensions';

export interface LeafRequest {
  readonly spiffeId: SpiffeId;
  readonly dnsNames: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface MintedLeaf {
  readonly certificateDer: Buffer;
  readonly privateKeyPkcs8Der: Buffer;
  readonly serialHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface LeafIssuer {
  readonly certificateDer: Buffer;
  readonly signer: CertificateSigner;
}

const SUBJECT = distinguishedName('meshid');

/**
 * Mints X.509-SVIDs from a DER template (the hot path: agent start and CA rotation re-mint every
 * SVID on the node at once). Everything that does not vary per SVID — algorithm, issuer name,
 * the constant extensions and the issuer's key id — is encoded once here; a mint encodes only
 * the serial, validity, SAN, key and key id, and spends its time in keygen and signing on the
 * thread pool. Conformance to the X509-SVID spec is checked by test/identity with openssl.
 */
export class LeafMinter {
  private readonly algorithmAndIssuer: Buffer;
  private readonly constantExtensions: Buffer;

  constructor(
    private readonly issuer: LeafIssuer,
    private readonly keyType: KeyType,
  ) {
    const parts = readIssuerParts(issuer.certificateDer);
    this.algorithmAndIssuer = Buffer.concat([issuer.signer.signatureAlgorithmDer, parts.subjectNameDer]);
    // X509-SVID §4.3: digitalSignature required; keyEncipherment allowed (RSA key exchange).
    const usage = isRsa(keyType) ? [KEY_USAGE.digitalSignature, KEY_USAGE.keyEncipherment] : [KEY_USAGE.digitalSignature];
    this.constantExtensions = Buffer.concat([basicConstraints(false), keyUsage(usage), extKeyUsageServerClient(), authorityKeyIdentifier(parts.keyIdentifier)]);
  }

  async mint(request: LeafRequest): Promise<MintedLeaf> {
    // X509-SVID §2: a leaf's SPIFFE ID has a path; the bare trust domain ID is for CAs.
    if (request.spiffeId.isRoot) throw new MeshidError('INVALID_SPIFFE_ID', `a leaf SVID needs an ID with a path, got ${request.spiffeId.toString()}`);
    const key = await generateKey(this.keyType);
    const serial = randomSerial();
    const extensions = Buffer.concat([
      this.constantExtensions,
      subjectKeyIdentifier(keyIdentifierFromSpki(key.publicKeySpkiDer)),
      subjectAltName([request.spiffeId.toString()], request.dnsNames),
    ]);
    const tbs = sequence(
      VERSION_V3,
      serialInteger(serial),
      this.algorithmAndIssuer,
      sequence(time(request.notBefore), time(request.notAfter)),
      SUBJECT,
      key.publicKeySpkiDer,
      explicit(3, sequence(extensions)),
    );
    return {
      certificateDer: await signCertificate(tbs, this.issuer.signer),
      privateKeyPkcs8Der: key.privateKeyPkcs8Der,
      serialHex: serial.toString('hex'),
      notBefore: request.notBefore,
      notAfter: request.notAfter,
    };
  }
}
