import { randomBytes } from 'node:crypto';
import { isMeshidError } from '../common/errors';
import { signatureAlgorithmFor, type CertificateSigner } from '../identity/signer';
import { pkcs11Signer } from './pkcs11-signer';
import { Pkcs11Key, pkcs11Failure as fail, type Pkcs11KeyLocation } from './pkcs11-token';
import type { UpstreamAuthority } from './upstream-authority';
import type { UpstreamType } from './upstream-type';
import { readSigningCertificates, readText, resolveUpstreamChain, type CertificateFiles } from './upstream-certificates';

export interface Pkcs11UpstreamConfig extends Pkcs11KeyLocation, CertificateFiles {}

/** On rotation certFile is read again and the key under the same label opened again (the operator may have replaced it in the HSM). */
export const pkcs11UpstreamType: UpstreamType<Pkcs11UpstreamConfig> = {
  load: (config, _context, now) => loadPkcs11Upstream(config, now),
  prepareSuccessor: async (config, _context, now) => ({ upstream: await loadPkcs11Upstream(config, now) }),
  watchedFiles: (config) => [config.certFile, config.bundleFile].filter((file): file is string => file !== undefined),
};

/**
 * A CA whose private key lives in an HSM and never leaves it: meshid reaches it through the
 * vendor's PKCS#11 module and asks it to sign the node intermediate. certFile (and bundleFile)
 * are as for the disk upstream. Everything is checked at start, including that the key signs
 * and matches certFile (a probe signature), so a misconfigured HSM stops the agent before it
 * serves. Errors name the module, token, key or file at fault, never the PIN.
 */
export async function loadPkcs11Upstream(config: Pkcs11UpstreamConfig, now: Date): Promise<UpstreamAuthority> {
  const { signing, suppliedChain } = await readSigningCertificates(config, fail);
  const publicKey = signing.certificate.publicKey;
  try {
    signatureAlgorithmFor(publicKey);
  } catch (error) {
    throw fail(`certFile ${config.certFile}: ${isMeshidError(error) ? error.message : String(error)}`);
  }
  const pin = await readPin(config.pinFile);

  const key = Pkcs11Key.open(config, pin);
  try {
    const certificateKeyType = publicKey.asymmetricKeyType === 'ec' ? 'ec' : 'rsa';
    if (key.keyType !== certificateKeyType) {
      throw fail(`${key.keyName} does not match the certificate in certFile ${config.certFile}: the key is ${key.keyType.toUpperCase()}, the certificate's is ${certificateKeyType.toUpperCase()}`);
    }
    const signer = pkcs11Signer(key, publicKey, config.certFile);
    await probe(signer);
    const chain = await resolveUpstreamChain(signing, suppliedChain, config, now, fail);
    return { name: 'pkcs11', signingCertificateDer: signing.der, signer, ...chain, close: () => key.close() };
  } catch (error) {
    await key.close();
    throw error;
  }
}

/** Like the disk upstream's passphrase file: one trailing newline is not part of the PIN. */
async function readPin(pinFile: string): Promise<string> {
  const pin = (await readText(pinFile, 'pinFile', fail)).replace(/\r?\n$/, '');
  if (pin === '') throw fail(`pinFile ${pinFile} is empty`);
  return pin;
}

/** One signature over random bytes: proves the key may sign and belongs to certFile (the signer verifies). */
async function probe(signer: CertificateSigner): Promise<void> {
  await signer.sign(randomBytes(32));
}
