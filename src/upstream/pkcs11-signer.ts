import { createHash, verify, type KeyObject } from 'node:crypto';
import * as pkcs11 from 'pkcs11js';
import { ecdsaRawToDer } from '../identity/ecdsa-signature';
import { signatureAlgorithmFor, type CertificateSigner } from '../identity/signer';
import { pkcs11Failure, type Pkcs11Key } from './pkcs11-token';

/**
 * A CertificateSigner whose key stays in the HSM. The algorithm follows the certificate's public
 * key, as for a key on disk. EC: the digest is computed here and signed with plain CKM_ECDSA,
 * which every token implements (CKM_ECDSA_SHA256 is optional in PKCS#11 and missing from many);
 * the r||s result becomes DER. RSA: CKM_SHA256_RSA_PKCS, PKCS#1 v1.5 with SHA-256.
 *
 * Every signature is verified with the certificate's public key before it is used: at start
 * that is the check that the key and certFile belong together, and later it keeps a replaced
 * key or a faulty device from putting an unverifiable node intermediate into every chain.
 */
export function pkcs11Signer(key: Pkcs11Key, certificatePublicKey: KeyObject, certFile: string): CertificateSigner {
  const { algorithmDer, digest } = signatureAlgorithmFor(certificatePublicKey);
  const ec = certificatePublicKey.asymmetricKeyType === 'ec';
  return {
    signatureAlgorithmDer: algorithmDer,
    publicKeySpkiDer: certificatePublicKey.export({ type: 'spki', format: 'der' }),
    async sign(tbsDer) {
      const signature = ec
        ? ecdsaRawToDer(await key.sign(pkcs11.CKM_ECDSA, createHash(digest).update(tbsDer).digest()))
        : await key.sign(pkcs11.CKM_SHA256_RSA_PKCS, tbsDer);
      if (!verify(digest, tbsDer, certificatePublicKey, signature)) {
        throw pkcs11Failure(`${key.keyName} does not match the certificate in certFile ${certFile}: its signature does not verify with the certificate's public key`);
      }
      return signature;
    },
  };
}
