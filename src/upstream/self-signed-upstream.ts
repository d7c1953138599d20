import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { MeshidError } from '../common/errors';
import { createCaCertificate } from '../identity/ca-certificate';
import { generateKey } from '../identity/key-type';
import { derToPem, pemToDerList } from '../identity/pem';
import { keyObjectSigner } from '../identity/signer';
import { writeFileAtomic } from '../common/atomic-file';
import { caProblem, parseCertificate } from './ca-checks';
import type { UpstreamAuthority } from './upstream-authority';

export const ROOT_LIFETIME_MS = 10 * 365 * 86_400_000;
export const SELF_SIGNED_CERT_FILE = 'upstream-ca.pem';
export const SELF_SIGNED_KEY_FILE = 'upstream-ca.key';

export interface SelfSignedOptions {
  readonly dataDir: string;
  readonly trustDomain: string;
  /** Mode for dataDir when it has to be created (default 0700). An existing dataDir is left as is. */
  readonly dataDirMode?: number;
}

const fail = (reason: string): MeshidError => new MeshidError('UPSTREAM', `upstream(self-signed): ${reason}`);

/**
 * A root CA made on first start and kept in dataDir, so restarts keep the same trust bundle.
 * An existing root for another trust domain, or an expired one, is an error rather than being
 * silently replaced: replacing a root breaks every relying party that trusts it.
 */
export async function loadSelfSignedUpstream(options: SelfSignedOptions, now: Date): Promise<UpstreamAuthority> {
  const certFile = path.join(options.dataDir, SELF_SIGNED_CERT_FILE);
  const keyFile = path.join(options.dataDir, SELF_SIGNED_KEY_FILE);
  const [certPem, keyPem] = await Promise.all([readIfPresent(certFile), readIfPresent(keyFile)]);
  if (certPem !== undefined && keyPem !== undefined) return reuse(certFile, certPem, keyFile, keyPem, options.trustDomain, now);
  if (certPem !== undefined || keyPem !== undefined) {
    // Most likely a crash between the two writes below, or a file removed by hand. Either way the
    // pair cannot be trusted to be the published root, and guessing could replace it.
    throw fail(`only one of ${certFile} and ${keyFile} exists; restore the other, or remove both to create a new root`);
  }
  return create(certFile, keyFile, options, now);
}

async function reuse(certFile: string, certPem: string, keyFile: string, keyPem: string, trustDomain: string, now: Date): Promise<UpstreamAuthority> {
  const [der] = pemToDerList(certPem, 'CERTIFICATE');
  const certificate = der && parseCertificate(der);
  if (!der || !certificate) throw fail(`${certFile} holds no readable PEM certificate`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: keyPem, format: 'pem' });
  } catch {
    throw fail(`${keyFile} holds no readable PEM private key`);
  }
  if (!certificate.checkPrivateKey(privateKey)) throw fail(`${keyFile} does not belong to ${certFile}`);
  const uris = (certificate.subjectAltName ?? '').split(', ').filter((name) => name.startsWith('URI:')).map((name) => name.slice(4));
  if (!uris.includes(`spiffe://${trustDomain}`)) {
    throw fail(`${certFile} is the root of another trust domain (${uris.join(', ') || 'no SPIFFE ID'}), not ${trustDomain}; move ${certFile} and ${keyFile} away to create a new root`);
  }
  if (Date.parse(certificate.validTo) <= now.getTime()) throw fail(`${certFile} expired on ${certificate.validTo}; move ${certFile} and ${keyFile} away to create a new root`);
  if (Date.parse(certificate.validFrom) > now.getTime()) throw fail(`${certFile} is not valid before ${certificate.validFrom}; is the clock right?`);
  const problem = caProblem(der, certificate, 1);
  if (problem) throw fail(`${certFile} ${problem}`);
  return { name: 'self-signed', signingCertificateDer: der, signer: keyObjectSigner(privateKey), upstreamIntermediatesDer: [], rootsDer: [der] };
}

async function create(certFile: string, keyFile: string, options: SelfSignedOptions, now: Date): Promise<UpstreamAuthority> {
  try {
    await mkdir(options.dataDir, { recursive: true, mode: options.dataDirMode ?? 0o700 });
  } catch (error) {
    throw fail(`cannot create dataDir ${options.dataDir}: ${systemReason(error)}`);
  }
  const root = await generateRoot(options.trustDomain, now);
  try {
    // Key first: a crash between the two writes leaves a key without a cert, reported above.
    await writeFileAtomic(keyFile, root.keyPem, 0o600);
    await writeFileAtomic(certFile, derToPem('CERTIFICATE', root.upstream.signingCertificateDer), 0o644);
  } catch (error) {
    throw fail(`cannot write the new root into ${options.dataDir}: ${systemReason(error)}`);
  }
  return root.upstream;
}

/** A new self-signed root in memory: the upstream it makes and its key as PEM, to persist. */
export async function generateRoot(trustDomain: string, now: Date, commonNameSuffix = ''): Promise<{ upstream: UpstreamAuthority; keyPem: string }> {
  const key = await generateKey('ec-p256');
  const signer = keyObjectSigner(key.privateKey);
  const der = await createCaCertificate({
    subjectCommonName: `meshid root CA ${trustDomain}${commonNameSuffix}`.slice(0, 64), // CN is at most 64 characters (RFC 5280 ub-common-name)
    subjectPublicKeySpkiDer: key.publicKeySpkiDer,
    issuer: { signer },
    trustDomain,
    notBefore: new Date(now.getTime() - 60_000), // a little slack for relying parties' clock skew
    notAfter: new Date(now.getTime() + ROOT_LIFETIME_MS),
  });
  return { upstream: { name: 'self-signed', signingCertificateDer: der, signer, upstreamIntermediatesDer: [], rootsDer: [der] }, keyPem: derToPem('PRIVATE KEY', key.privateKeyPkcs8Der) };
}

/** The file's text, or undefined when it does not exist. Any other failure is an error: an
 * unreadable root must never be mistaken for a missing one and replaced. */
async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fail(`cannot read ${file}: ${systemReason(error)}`);
  }
}

function systemReason(error: unknown): string {
  return error instanceof Error ? error.message.replace(/, \w+ '.*'$/, '') : String(error);
}
