import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import { MeshidError } from '../common/errors';
import { NULL, oid, sequence } from './der';

/** Signs TBSCertificates. A KeyObject implements it here; an HSM can implement it elsewhere. */
export interface CertificateSigner {
  /** DER AlgorithmIdentifier placed in both the TBSCertificate and the Certificate. */
  readonly signatureAlgorithmDer: Buffer;
  readonly publicKeySpkiDer: Buffer;
  /** The signature value as it goes into the certificate's BIT STRING. */
  sign(tbsDer: Buffer): Promise<Buffer>;
}

// RFC 5758 §3.2: ECDSA AlgorithmIdentifiers have absent parameters.
const ECDSA_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));
const ECDSA_SHA384 = sequence(oid('1.2.840.10045.4.3.3'));
// RFC 4055 §5 / RFC 5280 §4.1.1.2: PKCS#1 v1.5 identifiers carry NULL parameters.
const RSA_SHA256 = sequence(oid('1.2.840.113549.1.1.11'), NULL);

export interface SignatureAlgorithm {
  /** DER AlgorithmIdentifier (CertificateSigner.signatureAlgorithmDer). */
  readonly algorithmDer: Buffer;
  /** Node's name of the digest the signature is made over. */
  readonly digest: 'sha256' | 'sha384';
}

/**
 * The signature algorithm meshid uses with a key (private, or the public half of one held
 * elsewhere, such as in an HSM). The digest matches the curve's strength for EC keys
 * (RFC 5480 §4); RSA uses SHA-256 at any size, the choice every TLS stack accepts.
 */
export function signatureAlgorithmFor(key: KeyObject): SignatureAlgorithm {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') return { algorithmDer: ECDSA_SHA256, digest: 'sha256' };
  if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'secp384r1') return { algorithmDer: ECDSA_SHA384, digest: 'sha384' };
  if (key.asymmetricKeyType === 'rsa') return { algorithmDer: RSA_SHA256, digest: 'sha256' };
  const kind = [key.asymmetricKeyType ?? 'unknown', details?.namedCurve].filter(Boolean).join(' ');
  throw new MeshidError('UPSTREAM', `unsupported CA key type ${kind}: use EC P-256, EC P-384 or RSA`);
}

/**
 * Node returns ECDSA signatures DER-encoded (Ecdsa-Sig-Value, RFC 3279 §2.2.3), which is what
 * the certificate's BIT STRING carries.
 */
export function keyObjectSigner(privateKey: KeyObject): CertificateSigner {
  if (privateKey.type !== 'private') throw new MeshidError('UPSTREAM', `a signer needs a private key, got a ${privateKey.type} key`);
  const { algorithmDer, digest } = signatureAlgorithmFor(privateKey);
  return {
    signatureAlgorithmDer: algorithmDer,
    // Derived once: createPublicKey takes the public half of a private KeyObject.
    publicKeySpkiDer: createPublicKey(privateKey).export({ type: 'spki', format: 'der' }),
    // The callback form runs on the libuv thread pool, so signing storms use every core.
    sign: (tbsDer) =>
      new Promise((resolve, reject) => sign(digest, tbsDer, privateKey, (error, signature) => (error ? reject(error) : resolve(signature)))),
  };
}
