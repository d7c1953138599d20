import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { MeshidError } from '../errors';
import { allowsCertificateSigning } from '../identity/certificate-parts';
import { pemToDerList } from '../identity/pem';
import { keyObjectSigner } from '../identity/signer';
import type { UpstreamAuthority } from './upstream-authority';

export interface DiskUpstreamConfig {
  readonly certFile: string;
  readonly keyFile: string;
  readonly keyPassphraseFile?: string;
  readonly bundleFile?: string;
}

const fail = (reason: string): MeshidError => new MeshidError('UPSTREAM', `upstream(disk): ${reason}`);

/**
 * An operator's CA from PEM files: a root, or an intermediate whose chain reaches a root in
 * bundleFile. Every check runs at start so a bad CA stops the agent before it serves anything.
 */
export async function loadDiskUpstream(config: DiskUpstreamConfig, now: Date): Promise<UpstreamAuthority> {
  const certificates = pemToDerList(await readText(config.certFile, 'certFile'), 'CERTIFICATE');
  const [signingDer, ...suppliedChain] = certificates;
  if (!signingDer) throw fail(`certFile ${config.certFile} contains no PEM CERTIFICATE`);
  const signing = parseCertificate(signingDer, config.certFile);
  const privateKey = await loadPrivateKey(config);
  if (!signing.checkPrivateKey(privateKey)) throw fail(`keyFile ${config.keyFile} does not match the certificate in ${config.certFile}`);
  checkValidity(signing, config.certFile, now);
  checkIsCa(signingDer, signing, config.certFile);

  const bundle = config.bundleFile ? pemToDerList(await readText(config.bundleFile, 'bundleFile'), 'CERTIFICATE') : [];
  if (config.bundleFile && bundle.length === 0) throw fail(`bundleFile ${config.bundleFile} contains no PEM CERTIFICATE`);
  const selfSigned = signing.checkIssued(signing) && signing.verify(signing.publicKey);

  let intermediates: Buffer[] = [];
  let roots: Buffer[];
  if (selfSigned) {
    roots = [signingDer, ...bundle.filter((der) => !der.equals(signingDer))];
  } else {
    if (bundle.length === 0) throw fail(`${config.certFile} is not self-signed, so bundleFile must hold the root(s) it chains to`);
    intermediates = chainToBundle(signingDer, suppliedChain, bundle, config, now);
    roots = bundle;
  }
  return { name: 'disk', signingCertificateDer: signingDer, signer: keyObjectSigner(privateKey), upstreamIntermediatesDer: intermediates, rootsDer: roots };
}

async function readText(file: string, key: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw fail(`cannot read ${key} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function parseCertificate(der: Buffer, file: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch {
    throw fail(`${file} holds a certificate that cannot be parsed`);
  }
}

async function loadPrivateKey(config: DiskUpstreamConfig): Promise<KeyObject> {
  const pem = await readText(config.keyFile, 'keyFile');
  const passphrase = config.keyPassphraseFile ? (await readText(config.keyPassphraseFile, 'keyPassphraseFile')).replace(/\r?\n$/, '') : undefined;
  try {
    return createPrivateKey(passphrase === undefined ? { key: pem } : { key: pem, passphrase });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const encrypted = /ENCRYPTED/.test(pem);
    // Never echo the key or the passphrase; the file names are enough to act on.
    if (encrypted && passphrase === undefined) throw fail(`keyFile ${config.keyFile} is encrypted; set keyPassphraseFile`);
    if (encrypted) throw fail(`cannot decrypt keyFile ${config.keyFile} with the passphrase in ${config.keyPassphraseFile}: wrong passphrase?`);
    throw fail(`keyFile ${config.keyFile} is not a PEM private key (${code || 'unreadable'})`);
  }
}

function checkValidity(certificate: X509Certificate, file: string, now: Date): void {
  if (Date.parse(certificate.validTo) <= now.getTime()) throw fail(`${file} expired on ${certificate.validTo}`);
  if (Date.parse(certificate.validFrom) > now.getTime()) throw fail(`${file} is not valid before ${certificate.validFrom}`);
}

function checkIsCa(der: Buffer, certificate: X509Certificate, file: string): void {
  if (!certificate.ca) throw fail(`${file} is not a CA certificate (basicConstraints cA is not true)`);
  if (!allowsCertificateSigning(der)) throw fail(`${file} may not sign certificates (keyUsage lacks keyCertSign)`);
}

/** Walks issuer links from the signing certificate to a bundle root; returns the non-root path. */
function chainToBundle(signingDer: Buffer, supplied: Buffer[], bundle: Buffer[], config: DiskUpstreamConfig, now: Date): Buffer[] {
  const roots = bundle.map((der) => new X509Certificate(der));
  const candidates = supplied.map((der) => ({ der, certificate: parseCertificate(der, config.certFile) }));
  const path: Buffer[] = [signingDer];
  let current = new X509Certificate(signingDer);
  for (let depth = 0; depth <= candidates.length; depth++) {
    if (roots.some((root) => current.checkIssued(root) && current.verify(root.publicKey))) return path;
    const parent = candidates.find(({ certificate }) => current.checkIssued(certificate) && current.verify(certificate.publicKey));
    if (!parent) break;
    checkValidity(parent.certificate, config.certFile, now);
    path.push(parent.der);
    current = parent.certificate;
  }
  throw fail(`the chain in ${config.certFile} does not reach any root in bundleFile ${config.bundleFile}`);
}
