import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { MeshidError } from '../errors';
import { pemToDerList } from '../identity/pem';
import { keyObjectSigner, type CertificateSigner } from '../identity/signer';
import { caProblem, isIssuedBy, isSelfSigned, parseCertificate, validityProblem } from './ca-checks';
import type { UpstreamAuthority } from './upstream-authority';

export interface DiskUpstreamConfig {
  readonly certFile: string;
  readonly keyFile: string;
  readonly keyPassphraseFile?: string;
  readonly bundleFile?: string;
}

interface Loaded {
  readonly der: Buffer;
  readonly certificate: X509Certificate;
}

const fail = (reason: string): MeshidError => new MeshidError('UPSTREAM', `upstream(disk): ${reason}`);
const subjectOf = (certificate: X509Certificate): string => certificate.subject.replace(/\n/g, ', ');

/**
 * An operator's CA from PEM files: a root, or an intermediate whose chain (the rest of certFile)
 * reaches a root in bundleFile. Every check runs at start, so a CA that could not produce
 * verifiable chains stops the agent before it serves anything. Errors name the file at fault
 * and never include key material or the passphrase.
 */
export async function loadDiskUpstream(config: DiskUpstreamConfig, now: Date): Promise<UpstreamAuthority> {
  const [signing, ...suppliedChain] = await readCertificates(config.certFile, 'certFile');
  if (!signing) throw fail(`certFile ${config.certFile} contains no PEM CERTIFICATE block`);
  const privateKey = await loadPrivateKey(config);
  if (!keyMatches(signing.certificate, privateKey)) throw fail(`keyFile ${config.keyFile} does not match the certificate in certFile ${config.certFile}`);
  const signer = signerFor(privateKey, config.keyFile);
  const problem = validityProblem(signing.certificate, now) ?? caProblem(signing.der, signing.certificate, 1);
  if (problem) throw fail(`certFile ${config.certFile} ${problem}`);

  const bundle = config.bundleFile === undefined ? [] : await readCertificates(config.bundleFile, 'bundleFile');
  if (config.bundleFile !== undefined && bundle.length === 0) throw fail(`bundleFile ${config.bundleFile} contains no PEM CERTIFICATE block`);

  if (isSelfSigned(signing.certificate)) {
    const roots = [signing.der, ...bundle.map(({ der }) => der).filter((der) => !der.equals(signing.der))];
    return { name: 'disk', signingCertificateDer: signing.der, signer, upstreamIntermediatesDer: [], rootsDer: roots };
  }
  if (config.bundleFile === undefined) {
    throw fail(`certFile ${config.certFile} is not self-signed (an intermediate), so bundleFile must hold the root it chains to`);
  }
  const intermediates = chainToBundle(signing, suppliedChain, bundle, config, now);
  return { name: 'disk', signingCertificateDer: signing.der, signer, upstreamIntermediatesDer: intermediates, rootsDer: bundle.map(({ der }) => der) };
}

async function readText(file: string, key: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw fail(`cannot read ${key} ${file}: ${systemReason(error)}`);
  }
}

async function readCertificates(file: string, key: string): Promise<Loaded[]> {
  return pemToDerList(await readText(file, key), 'CERTIFICATE').map((der, index) => {
    const certificate = parseCertificate(der);
    if (!certificate) throw fail(`${key} ${file}: certificate #${index + 1} cannot be parsed`);
    return { der, certificate };
  });
}

async function loadPrivateKey(config: DiskUpstreamConfig): Promise<KeyObject> {
  const pem = await readText(config.keyFile, 'keyFile');
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem)) throw fail(`keyFile ${config.keyFile} is not a PEM private key`);
  const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: *4, *ENCRYPTED/.test(pem);
  let passphrase: string | undefined;
  if (config.keyPassphraseFile !== undefined) {
    passphrase = (await readText(config.keyPassphraseFile, 'keyPassphraseFile')).replace(/\r?\n$/, '');
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

/**
 * Walks issuer links from the signing certificate through the rest of certFile to a root in the
 * bundle, checking each step is a valid CA with room (pathlen) for what meshid adds below.
 * Returns the path without the root, leaf-most first, starting with the signing certificate.
 */
function chainToBundle(signing: Loaded, supplied: readonly Loaded[], bundle: readonly Loaded[], config: DiskUpstreamConfig, now: Date): Buffer[] {
  const path: Buffer[] = [signing.der];
  const unused = [...supplied];
  let current = signing.certificate;
  for (;;) {
    // CA certificates below the next one up: those already in the path plus the node intermediate.
    const casBelow = path.length + 1;
    const root = bundle.find(({ certificate }) => isIssuedBy(current, certificate));
    if (root) {
      const problem = validityProblem(root.certificate, now) ?? caProblem(root.der, root.certificate, casBelow);
      if (problem) throw fail(`the root in bundleFile ${config.bundleFile ?? ''} (${subjectOf(root.certificate)}) ${problem}`);
      return path;
    }
    const index = unused.findIndex(({ certificate }) => isIssuedBy(current, certificate));
    const parent = unused[index];
    if (!parent) break;
    unused.splice(index, 1);
    if (isSelfSigned(parent.certificate)) {
      throw fail(`the chain of certFile ${config.certFile} ends at root ${subjectOf(parent.certificate)}, which is not in bundleFile ${config.bundleFile ?? ''}`);
    }
    const problem = validityProblem(parent.certificate, now) ?? caProblem(parent.der, parent.certificate, casBelow);
    if (problem) throw fail(`certFile ${config.certFile}: chain certificate ${subjectOf(parent.certificate)} ${problem}`);
    path.push(parent.der);
    current = parent.certificate;
  }
  throw fail(`the chain of certFile ${config.certFile} does not reach any root in bundleFile ${config.bundleFile ?? ''} (its issuer ${current.issuer.replace(/\n/g, ', ')} is in neither)`);
}

/** "ENOENT: no such file or directory", without the path Node appends (the message names it). */
function systemReason(error: unknown): string {
  return error instanceof Error ? error.message.replace(/, \w+ '.*'$/, '') : String(error);
}
