import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createCaCertificate } from '../../src/identity/ca-certificate';
import { generateKey, type KeyType } from '../../src/identity/key-type';
import { LeafMinter } from '../../src/identity/leaf-minter';
import { derToPem } from '../../src/identity/pem';
import { keyObjectSigner, type CertificateSigner } from '../../src/identity/signer';

export interface TestChain {
  readonly root: Buffer;
  readonly rootSigner: CertificateSigner;
  /** pathLength 0, name-constrained to the trust domain: what NodeCa makes. */
  readonly intermediate: Buffer;
  readonly intermediateSigner: CertificateSigner;
  readonly minter: LeafMinter;
}

export const HOUR = 3_600_000;

/** Root → intermediate → LeafMinter, every key of `keyType`. */
export async function buildChain(keyType: KeyType, trustDomain = 'example.org'): Promise<TestChain> {
  const now = Date.now();
  const validity = { notBefore: new Date(now - 60_000), notAfter: new Date(now + 24 * HOUR) };
  const [rootKey, intermediateKey] = await Promise.all([generateKey(keyType), generateKey(keyType)]);
  const rootSigner = keyObjectSigner(rootKey.privateKey);
  const root = await createCaCertificate({
    subjectCommonName: `test root ${keyType}`,
    subjectPublicKeySpkiDer: rootKey.publicKeySpkiDer,
    issuer: { signer: rootSigner },
    trustDomain,
    ...validity,
  });
  const intermediateSigner = keyObjectSigner(intermediateKey.privateKey);
  const intermediate = await createCaCertificate({
    subjectCommonName: `test intermediate ${keyType}`,
    subjectPublicKeySpkiDer: intermediateKey.publicKeySpkiDer,
    issuer: { certificateDer: root, signer: rootSigner },
    trustDomain,
    ...validity,
    pathLength: 0,
    nameConstrainToTrustDomain: true,
  });
  const minter = new LeafMinter({ certificateDer: intermediate, signer: intermediateSigner }, keyType);
  return { root, rootSigner, intermediate, intermediateSigner, minter };
}

/** A temporary directory of PEM files (several DERs → one bundle) for openssl; cleanup removes it. */
export async function pemDir(files: Record<string, Buffer | readonly Buffer[]>): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshid-identity-'));
  for (const [name, content] of Object.entries(files)) {
    const label = name.endsWith('.key') ? 'PRIVATE KEY' : 'CERTIFICATE';
    await writeFile(path.join(dir, name), (Buffer.isBuffer(content) ? [content] : content).map((der) => derToPem(label, der)).join(''));
  }
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
