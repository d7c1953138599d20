import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { MeshidError } from '../errors';
import { createCaCertificate } from '../identity/ca-certificate';
import { generateKey } from '../identity/key-type';
import { derToPem, pemToDerList } from '../identity/pem';
import { keyObjectSigner } from '../identity/signer';
import { writeFileAtomic } from './atomic-file';
import type { UpstreamAuthority } from './upstream-authority';

const ROOT_LIFETIME_MS = 10 * 365 * 86_400_000;
export const SELF_SIGNED_CERT_FILE = 'upstream-ca.pem';
export const SELF_SIGNED_KEY_FILE = 'upstream-ca.key';

/**
 * A root CA made on first start and kept in dataDir, so restarts keep the same trust bundle.
 * An existing root for another trust domain, or an expired one, is an error rather than being
 * silently replaced: replacing a root breaks every relying party that trusts it.
 */
export async function loadSelfSignedUpstream(dataDir: string, trustDomain: string, now: Date): Promise<UpstreamAuthority> {
  const certFile = path.join(dataDir, SELF_SIGNED_CERT_FILE);
  const keyFile = path.join(dataDir, SELF_SIGNED_KEY_FILE);
  const fail = (reason: string): MeshidError => new MeshidError('UPSTREAM', `upstream(self-signed): ${reason}`);

  const [certPem, keyPem] = await Promise.all([readFile(certFile, 'utf8').catch(() => undefined), readFile(keyFile, 'utf8').catch(() => undefined)]);
  if (certPem !== undefined && keyPem !== undefined) {
    const [der] = pemToDerList(certPem, 'CERTIFICATE');
    if (!der) throw fail(`${certFile} holds no certificate`);
    const certificate = new X509Certificate(der);
    const privateKey = createPrivateKey(keyPem);
    if (!certificate.checkPrivateKey(privateKey)) throw fail(`${keyFile} does not belong to ${certFile}`);
    if (!certificate.subjectAltName?.includes(`URI:spiffe://${trustDomain}`)) {
      throw fail(`${certFile} is the root of another trust domain (${certificate.subjectAltName ?? 'no SAN'}); move it away to create a new root for ${trustDomain}`);
    }
    if (Date.parse(certificate.validTo) <= now.getTime()) throw fail(`${certFile} expired on ${certificate.validTo}; move it away to create a new root`);
    return { name: 'self-signed', signingCertificateDer: der, signer: keyObjectSigner(privateKey), upstreamIntermediatesDer: [], rootsDer: [der] };
  }
  if (certPem !== undefined || keyPem !== undefined) throw fail(`only one of ${certFile} and ${keyFile} exists; restore the other or remove both`);

  // 0755: the embedded default socket lives here too and every local user must reach it; the key
  // file itself is 0600.
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  const key = await generateKey('ec-p256');
  const signer = keyObjectSigner(key.privateKey);
  const der = await createCaCertificate({
    subjectCommonName: `meshid root CA ${trustDomain}`,
    subjectPublicKeySpkiDer: key.publicKeySpkiDer,
    issuer: { signer },
    trustDomain,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + ROOT_LIFETIME_MS),
  });
  // Key first: a crash between the two writes leaves a key without a cert, reported above.
  await writeFileAtomic(keyFile, derToPem('PRIVATE KEY', key.privateKeyPkcs8Der), 0o600);
  await writeFileAtomic(certFile, derToPem('CERTIFICATE', der), 0o644);
  return { name: 'self-signed', signingCertificateDer: der, signer, upstreamIntermediatesDer: [], rootsDer: [der] };
}
