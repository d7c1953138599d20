import { bitString, explicit, sequence, smallInteger } from '../identity/der';
import type { CertificateSigner } from '../identity/signer';

/**
 * A PKCS#10 CertificationRequest (RFC 2986 §4) with an empty subject and no attributes: the SPIRE
 * server takes only the public key from CSRs (it checks the self-signature, then names the
 * certificate itself: spire pkg/server/api/svid/v1 parseAndCheckCSR, and spire-agent sends
 * util.MakeCSRWithoutURISAN for its own SVID).
 */
export async function certificateRequest(signer: CertificateSigner): Promise<Buffer> {
  const info = sequence(smallInteger(0), sequence(), signer.publicKeySpkiDer, explicit(0, Buffer.alloc(0)));
  const signature = await signer.sign(info);
  return sequence(info, signer.signatureAlgorithmDer, bitString(signature));
}
