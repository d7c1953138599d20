import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { MeshidError } from '../common/errors';
import { keyObjectSigner, type CertificateSigner } from '../identity/signer';
import type { UpstreamAuthority } from './upstream-authority';
import type { UpstreamType } from './upstream-type';
import { readSigningCertificates, readText, resolveUpstreamChain } from './upstream-certificates';

export interface DiskUpstreamConfig {
  readonly certFile: string;
  readonly keyFile: string;
  readonly keyPassphraseFile?: string;
  readonly bundleFile?: string;
}

/** Reloaded with every start-time check when an operator replaces its files. */
export const diskUpstreamType: UpstreamType<DiskUpstreamConfig> = {
  load: (config, _context, now) => loadDiskUpstream(config, now),
  prepareSuccessor: async (config, _context, now) => ({ upstream: await loadDiskUpstream(config, now) }),
  watchedFiles: (config) => [config.certFile, config.keyFile, config.bundleFile, config.keyPassphraseFile].filter((file): file is string => file !== undefined),
};

const fail = (reason: string): MeshidError => new MeshidError('UPSTREAM', `upstream(disk): ${reason}`);

/**
 * An operator's CA from PEM files: a root, or an intermediate whose chain (the rest of certFile)
 * reaches a root in bundleFile. Every check runs at start, so a CA that could not produce
 * verifiable chains stops the agent before it serves anything. Errors name the file at fault
 * and never include key material or the passphrase.
 */
export async function loadDiskUpstream(config: DiskUpstreamConfig, now: Date): Promise<UpstreamAuthority> {
  const { signing, suppliedChain } = await readSigningCertificates(config, fail);
  const privateKey = await loadPrivateKey(config);
  if (!keyMatches(signing.certificate, privateKey)) throw fail(`keyFile ${config.keyFile} does not match the certificate in certFile ${config.certFile}`);
  const signer = signerFor(privateKey, config.keyFile);
  const chain = await resolveUpstreamChain(signing, suppliedChain, config, now, fail);
  return { name: 'disk', signingCertificateDer: signing.der, signer, ...chain };
}

async function loadPrivateKey(config: DiskUpstreamConfig): Promise<KeyObject> {
  const pem = await readText(config.keyFile, 'keyFile', fail);
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem)) throw fail(`keyFile ${config.keyFile} is not a PEM private key`);
  const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: *4, *ENCRYPTED/.test(pem);
  let passphrase: string | undefined;
  if (config.keyPassphraseFile !== undefined) {
    passphrase = (await readText(config.keyPassphraseFile, 'keyPassphraseFile', fail)).replace(/\r?\n$/, '');
    if (encrypted && passphrase === '') throw fail(`keyPassphraseFile ${config.keyPassphraseFile} is empty`);
  }
  if (encrypted && passphrase === undefined) throw fail(`keyFile ${config.keyFile} is encrypted; set keyPassphraseFile`);
  try {
    return createPrivateKey(passphrase === undefined ? { key: pem, format: 'pem' } : { key: pem, format: 'pem', passphrase });
  } catch {
    // OpenSSL's reason ("bad decrypt") says nothing more than this, and the key and the
    // passphrase must never be echoed: the file names are what an operator acts on.
    if (encrypted) throw fail(`cannot decrypt keyFile ${config.keyFile} with the passphrase in ${config.keyPassphraseFile ?? ''}: wrong passphrase?`);
    throw fail(`keyFile ${config.keyFile} holds a private key that cannot be parsed (expected PKCS#8, PKCS#1 or SEC1 PEM)`);
  }
}

function keyMatches(certificate: X509Certificate, privateKey: KeyObject): boolean {
  try {
    return certificate.checkPrivateKey(privateKey);
  } catch {
    return false; // e.g. an EC key against an RSA certificate
  }
}

function signerFor(privateKey: KeyObject, keyFile: string): CertificateSigner {
  try {
    return keyObjectSigner(privateKey);
  } catch (error) {
    throw fail(`keyFile ${keyFile}: ${error instanceof Error ? error.message : String(error)} (supported: EC P-256, EC P-384, RSA)`);
  }
}
