import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { MeshidError } from '../common/errors';
import { createCaCertificate } from '../identity/ca-certificate';
import { generateKey } from '../identity/key-type';
import { derToPem, pemToDerList } from '../identity/pem';
import { keyObjectSigner } from '../identity/signer';
import { writeFileAtomic } from '../common/atomic-file';
import { faultPoint } from '../common/fault-point';
import { caProblem, parseCertificate } from './ca-checks';
import type { UpstreamAuthority } from './upstream-authority';

export const ROOT_LIFETIME_MS = 10 * 365 * 86_400_000;
export const SELF_SIGNED_CERT_FILE = 'upstream-ca.pem';
export const SELF_SIGNED_KEY_FILE = 'upstream-ca.key';
/**
 * The first start's new root, key and certificate in one file (0600), written before either of
 * the two files above. Its presence proves that the pair (or the half of it) found beside it was
 * left by this agent's own interrupted first start, which the next start then finishes.
 */
export const FIRST_START_FILE = 'upstream-ca.first-start.pem';

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
  const firstStartFile = path.join(options.dataDir, FIRST_START_FILE);
  const staged = await readIfPresent(firstStartFile);
  if (staged !== undefined) await finishFirstStart(firstStartFile, staged, keyFile, certFile);
  const [certPem, keyPem] = await Promise.all([readIfPresent(certFile), readIfPresent(keyFile)]);
  if (certPem !== undefined && keyPem !== undefined) return reuse(certFile, certPem, keyFile, keyPem, options.trustDomain, now);
  if (certPem !== undefined || keyPem !== undefined) {
    // Not our interrupted first start (that leaves FIRST_START_FILE beside it): a file removed by
    // hand, or restored from a partial backup. The pair cannot be trusted to be the published
    // root, and guessing could replace a root relying parties trust.
    throw fail(`only one of ${certFile} and ${keyFile} exists; restore the other, or remove both to create a new root`);
  }
  return create(certFile, keyFile, firstStartFile, options, now);
}

/**
 * A first start killed after staging its root: write whichever of key and certificate is still
 * missing from the staged copy, then remove it. Nothing was ever signed under that root (the
 * staged file goes before the agent serves), but finishing is as safe as starting over and
 * never touches a file whose content differs from what the interrupted start wrote.
 */
async function finishFirstStart(firstStartFile: string, staged: string, keyFile: string, certFile: string): Promise<void> {
  const [certDer] = pemToDerList(staged, 'CERTIFICATE');
  const [keyDer] = pemToDerList(staged, 'PRIVATE KEY');
  if (!certDer || !keyDer) throw fail(`${firstStartFile} holds no key and certificate; it is not one meshid wrote: remove it`);
  const wanted = [
    { file: keyFile, pem: derToPem('PRIVATE KEY', keyDer), mode: 0o600, point: 'first-start:key-written' },
    { file: certFile, pem: derToPem('CERTIFICATE', certDer), mode: 0o644, point: 'first-start:cert-written' },
  ] as const;
  for (const { file, pem, mode, point } of wanted) {
    const present = await readIfPresent(file);
    if (present === undefined) {
      await writeFileAtomic(file, pem, mode).catch((error: unknown) => {
        throw fail(`cannot finish the root an interrupted first start left in ${firstStartFile}: ${systemReason(error)}`);
      });
      faultPoint(point);
    } else if (present !== pem) {
      throw fail(`${file} differs from the root ${firstStartFile} holds (left by an interrupted first start); keep the one relying parties trust and remove the other`);
    }
  }
  await unlink(firstStartFile).catch((error: unknown) => {
    throw fail(`cannot remove ${firstStartFile}: ${systemReason(error)}`);
  });
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

async function create(certFile: string, keyFile: string, firstStartFile: string, options: SelfSignedOptions, now: Date): Promise<UpstreamAuthority> {
  try {
    await mkdir(options.dataDir, { recursive: true, mode: options.dataDirMode ?? 0o700 });
  } catch (error) {
    throw fail(`cannot create dataDir ${options.dataDir}: ${systemReason(error)}`);
  }
  const root = await generateRoot(options.trustDomain, now);
  const certPem = derToPem('CERTIFICATE', root.upstream.signingCertificateDer);
  try {
    // Every step is atomic, and a kill after any of them is finished by the next start
    // (finishFirstStart): the staged pair first, then key, certificate, and the staged pair goes.
    await writeFileAtomic(firstStartFile, root.keyPem + certPem, 0o600);
    faultPoint('first-start:staged');
    await writeFileAtomic(keyFile, root.keyPem, 0o600);
    faultPoint('first-start:key-written');
    await writeFileAtomic(certFile, certPem, 0o644);
    faultPoint('first-start:cert-written');
    await unlink(firstStartFile);
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
