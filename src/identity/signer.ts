import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import { MeshidError } from '../errors';
import { oid, sequence, tlv, TAG } from './der';

/** Signs TBSCertificates. A KeyObject implements it here; an HSM can implement it elsewhere. */
export interface CertificateSigner {
  /** DER AlgorithmIdentifier placed in both the TBSCertificate and the Certificate. */
  readonly signatureAlgorithmDer: Buffer;
  readonly publicKeySpkiDer: Buffer;
  /** The signature value as it goes into the certificate's BIT STRING. */
  sign(tbsDer: Buffer): Promise<Buffer>;
}

// RFC 5758 §3.2 (ECDSA: parameters absent) and RFC 4055 §5 (RSA PKCS#1 v1.5: NULL parameters).
const ECDSA_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));
const ECDSA_SHA384 = sequence(oid('1.2.840.10045.4.3.3'));
const RSA_SHA256 = sequence(oid('1.2.840.113549.1.1.11'), tlv(TAG.NULL, Buffer.alloc(0)));

/** The digest matches the curve's strength for EC keys; RSA uses SHA-256 at any size. */
export function keyObjectSigner(privateKey: KeyObject): CertificateSigner {
  const details = privateKey.asymmetricKeyDetails;
  let algorithm: Buffer;
  let digest: string;
  if (privateKey.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') {
    [algorithm, digest] = [ECDSA_SHA256, 'sha256'];
  } else if (privateKey.asymmetricKeyType === 'ec' && details?.namedCurve === 'secp384r1') {
    [algorithm, digest] = [ECDSA_SHA384, 'sha384'];
  } else if (privateKey.asymmetricKeyType === 'rsa') {
    [algorithm, digest] = [RSA_SHA256, 'sha256'];
  } else {
    throw new MeshidError('UPSTREAM', `unsupported CA key type ${privateKey.asymmetricKeyType ?? 'unknown'} ${details?.namedCurve ?? ''}`.trim());
  }
  const publicKeySpkiDer = createPublicSpki(privateKey);
  return {
    signatureAlgorithmDer: algorithm,
    publicKeySpkiDer,
    // The callback form runs on the libuv thread pool, so signing storms use every core.
    sign: (tbsDer) =>
      new Promise((resolve, reject) => sign(digest, tbsDer, privateKey, (error, signature) => (error ? reject(error) : resolve(signature)))),
  };
}

function createPublicSpki(privateKey: KeyObject): Buffer {
  // createPublicKey derives the public half from a private KeyObject.
  return createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
}
