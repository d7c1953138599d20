import type { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { MeshidError } from '../common/errors';
import { pemToDerList } from '../identity/pem';
import { caProblem, isIssuedBy, isSelfSigned, parseCertificate, validityProblem } from './ca-checks';

/**
 * An operator's CA certificate files, shared by every upstream whose key is held elsewhere (a
 * PEM key file, an HSM): certFile is the signing certificate, optionally followed by its chain;
 * bundleFile holds the roots. Each upstream passes its own `fail` so errors carry its name.
 */
export interface CertificateFiles {
  readonly certFile: string;
  readonly bundleFile?: string;
}

export interface LoadedCertificate {
  readonly der: Buffer;
  readonly certificate: X509Certificate;
}

/** What an UpstreamAuthority serves besides its signing certificate. */
export interface UpstreamChain {
  readonly upstreamIntermediatesDer: Buffer[];
  readonly rootsDer: Buffer[];
}

export type Fail = (reason: string) => MeshidError;

const subjectOf = (certificate: X509Certificate): string => certificate.subject.replace(/\n/g, ', ');

/** certFile's certificates: the signing certificate first, then whatever chain follows it. */
export async function readSigningCertificates(files: CertificateFiles, fail: Fail): Promise<{ signing: LoadedCertificate; suppliedChain: LoadedCertificate[] }> {
  const [signing, ...suppliedChain] = await readCertificates(files.certFile, 'certFile', fail);
  if (!signing) throw fail(`certFile ${files.certFile} contains no PEM CERTIFICATE block`);
  return { signing, suppliedChain };
}

/**
 * Checks the signing certificate (valid now, a CA with room for the node intermediate below it)
 * and finds the path from it to a root in bundleFile. A self-signed certFile is itself a root.
 */
export async function resolveUpstreamChain(
  signing: LoadedCertificate,
  suppliedChain: readonly LoadedCertificate[],
  files: CertificateFiles,
  now: Date,
  fail: Fail,
): Promise<UpstreamChain> {
  const problem = validityProblem(signing.certificate, now) ?? caProblem(signing.der, signing.certificate, 1);
  if (problem) throw fail(`certFile ${files.certFile} ${problem}`);

  const bundle = files.bundleFile === undefined ? [] : await readCertificates(files.bundleFile, 'bundleFile', fail);
  if (files.bundleFile !== undefined && bundle.length === 0) throw fail(`bundleFile ${files.bundleFile} contains no PEM CERTIFICATE block`);

  if (isSelfSigned(signing.certificate)) {
    return { upstreamIntermediatesDer: [], rootsDer: [signing.der, ...bundle.map(({ der }) => der).filter((der) => !der.equals(signing.der))] };
  }
  if (files.bundleFile === undefined) {
    throw fail(`certFile ${files.certFile} is not self-signed (an intermediate), so bundleFile must hold the root it chains to`);
  }
  return { upstreamIntermediatesDer: chainToBundle(signing, suppliedChain, bundle, files, now, fail), rootsDer: bundle.map(({ der }) => der) };
}

export async function readText(file: string, key: string, fail: Fail): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw fail(`cannot read ${key} ${file}: ${systemReason(error)}`);
  }
}

async function readCertificates(file: string, key: string, fail: Fail): Promise<LoadedCertificate[]> {
  return pemToDerList(await readText(file, key, fail), 'CERTIFICATE').map((der, index) => {
    const certificate = parseCertificate(der);
    if (!certificate) throw fail(`${key} ${file}: certificate #${index + 1} cannot be parsed`);
    return { der, certificate };
  });
}

/**
 * Walks issuer links from the signing certificate through the rest of certFile to a root in the
 * bundle, checking each step is a valid CA with room (pathlen) for what meshid adds below.
 * Returns the path without the root, leaf-most first, starting with the signing certificate.
 */
function chainToBundle(
  signing: LoadedCertificate,
  supplied: readonly LoadedCertificate[],
  bundle: readonly LoadedCertificate[],
  files: CertificateFiles,
  now: Date,
  fail: Fail,
): Buffer[] {
  const path: Buffer[] = [signing.der];
  const unused = [...supplied];
  let current = signing.certificate;
  for (;;) {
    // CA certificates below the next one up: those already in the path plus the node intermediate.
    const casBelow = path.length + 1;
    const root = bundle.find(({ certificate }) => isIssuedBy(current, certificate));
    if (root) {
      const problem = validityProblem(root.certificate, now) ?? caProblem(root.der, root.certificate, casBelow);
      if (problem) throw fail(`the root in bundleFile ${files.bundleFile ?? ''} (${subjectOf(root.certificate)}) ${problem}`);
      return path;
    }
    const index = unused.findIndex(({ certificate }) => isIssuedBy(current, certificate));
    const parent = unused[index];
    if (!parent) break;
    unused.splice(index, 1);
    if (isSelfSigned(parent.certificate)) {
      throw fail(`the chain of certFile ${files.certFile} ends at root ${subjectOf(parent.certificate)}, which is not in bundleFile ${files.bundleFile ?? ''}`);
    }
    const problem = validityProblem(parent.certificate, now) ?? caProblem(parent.der, parent.certificate, casBelow);
    if (problem) throw fail(`certFile ${files.certFile}: chain certificate ${subjectOf(parent.certificate)} ${problem}`);
    path.push(parent.der);
    current = parent.certificate;
  }
  throw fail(`the chain of certFile ${files.certFile} does not reach any root in bundleFile ${files.bundleFile ?? ''} (its issuer ${current.issuer.replace(/\n/g, ', ')} is in neither)`);
}

/** "ENOENT: no such file or directory", without the path Node appends (the message names it). */
export function systemReason(error: unknown): string {
  return error instanceof Error ? error.message.replace(/, \w+ '.*'$/, '') : String(error);
}
