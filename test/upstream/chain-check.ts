import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createCaCertificate } from '../../src/identity/ca-certificate';
import { generateKey } from '../../src/identity/key-type';
import type { UpstreamAuthority } from '../../src/upstream/upstream-authority';
import { openssl } from '../support/openssl';

const pem = (der: Buffer): string => `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END CERTIFICATE-----\n`;

/**
 * Has the upstream sign a node intermediate the way the agent does, then asks the real openssl
 * to verify it against the upstream's roots, with its intermediates as the untrusted chain.
 */
export async function assertSignsVerifiableIntermediate(upstream: UpstreamAuthority, dir: string, trustDomain = 'example.org'): Promise<void> {
  const key = await generateKey('ec-p256');
  const now = Date.now();
  const nodeCa = await createCaCertificate({
    subjectCommonName: 'meshid node CA (test)',
    subjectPublicKeySpkiDer: key.publicKeySpkiDer,
    issuer: { certificateDer: upstream.signingCertificateDer, signer: upstream.signer },
    trustDomain,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3_600_000),
    pathLength: 0,
    nameConstrainToTrustDomain: true,
  });
  await writeFile(path.join(dir, 'node-ca.pem'), pem(nodeCa));
  await writeFile(path.join(dir, 'roots.pem'), upstream.rootsDer.map(pem).join(''));
  await writeFile(path.join(dir, 'chain.pem'), upstream.upstreamIntermediatesDer.map(pem).join(''));
  const args = ['verify', '-CAfile', 'roots.pem', ...(upstream.upstreamIntermediatesDer.length > 0 ? ['-untrusted', 'chain.pem'] : []), 'node-ca.pem'];
  const result = await openssl(args, dir);
  assert.ok(result.ok, `openssl ${args.join(' ')}: ${result.output}`);
  assert.match(result.output, /node-ca\.pem: OK/);
}
