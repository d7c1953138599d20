/**
 * X.509-SVID mint throughput per leaf key type: LeafMinter.mint with N mints in flight, beside
 * raw node:crypto figures measured in the same run with the same concurrency, each a key
 * generation + an async sign of a TBSCertificate of the same size by the same issuer key:
 *   - "generateKeyPair+sign": async generateKeyPair (KeyObjects, no encoding: the cheapest
 *     form, though it yields no key bytes to put in a certificate) — the classic bound;
 *   - "floor": the primitives the minter really uses (for P-256, ECDH.generateKeys() on the
 *     main thread, see src/identity/leaf-key.ts; otherwise the same as above), so mint/floor
 *     is what the template, the encodings and the bookkeeping cost on top of the crypto.
 * Prints figures only, never a pass/fail.
 *
 *   node dist/bench/mint.js [--count N] [--concurrency 64] [--key-types ec-p256,rsa-2048]
 *
 * The issuer is an EC P-256 intermediate, as NodeCa makes. RSA figures are noisy: the cost of
 * an RSA key generation varies a lot with how long the prime search runs.
 */
import { createECDH, generateKeyPair, sign, type KeyObject } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createCaCertificate } from '../src/identity/ca-certificate';
import { readElement } from '../src/identity/der-reader';
import { generateKey, KEY_TYPES, type KeyType } from '../src/identity/key-type';
import { LeafMinter } from '../src/identity/leaf-minter';
import { keyObjectSigner } from '../src/identity/signer';
import { SpiffeId } from '../src/identity/spiffe-id';

export interface MintBenchResult {
  readonly keyType: KeyType;
  readonly count: number;
  readonly concurrency: number;
  /** SVIDs per second through LeafMinter.mint. */
  readonly mintPerSecond: number;
  /** Async generateKeyPair + async sign per second. */
  readonly rawPerSecond: number;
  /** The minter's own key generation + async sign per second: its zero-overhead bound. */
  readonly floorPerSecond: number;
}

/**
 * Enough work per key type to measure, while the whole table stays near a minute on 2 cores
 * (OpenSSL 3.0 takes ~0.25 s of CPU per RSA-2048 key there, several seconds per RSA-4096 one).
 */
export const DEFAULT_COUNTS: Readonly<Record<KeyType, number>> = {
  'ec-p256': 20_000,
  'ec-p384': 2_000,
  'rsa-2048': 40,
  'rsa-3072': 10,
  'rsa-4096': 4,
};

/** Runs `task` `count` times with at most `concurrency` in flight; returns operations/s. */
async function throughput(count: number, concurrency: number, task: () => Promise<unknown>): Promise<number> {
  let started = 0;
  const begin = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (started < count) {
      started++;
      await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return count / (Number(process.hrtime.bigint() - begin) / 1e9);
}

const keyPair = (keyType: KeyType): Promise<KeyObject> =>
  new Promise((resolve, reject) => {
    const done = (error: Error | null, _publicKey: KeyObject, privateKey: KeyObject): void => (error ? reject(error) : resolve(privateKey));
    if (keyType === 'ec-p256') generateKeyPair('ec', { namedCurve: 'P-256' }, done);
    else if (keyType === 'ec-p384') generateKeyPair('ec', { namedCurve: 'P-384' }, done);
    else generateKeyPair('rsa', { modulusLength: Number(keyType.slice(4)), publicExponent: 0x10001 }, done);
  });

const signAsync = (data: Buffer, key: KeyObject): Promise<Buffer> =>
  new Promise((resolve, reject) => sign('sha256', data, key, (error, signature) => (error ? reject(error) : resolve(signature))));

/** A P-256 root and a name-constrained P-256 intermediate under it, as the agent runs. */
export async function benchIssuer(trustDomain = 'example.org'): Promise<{ certificateDer: Buffer; privateKey: KeyObject }> {
  const now = Date.now();
  const rootKey = await generateKey('ec-p256');
  const rootSigner = keyObjectSigner(rootKey.privateKey);
  const validity = { notBefore: new Date(now - 60_000), notAfter: new Date(now + 86_400_000) };
  const root = await createCaCertificate({ subjectCommonName: 'bench root', subjectPublicKeySpkiDer: rootKey.publicKeySpkiDer, issuer: { signer: rootSigner }, trustDomain, ...validity });
  const key = await generateKey('ec-p256');
  const certificateDer = await createCaCertificate({
    subjectCommonName: `meshid node CA ${trustDomain}`,
    subjectPublicKeySpkiDer: key.publicKeySpkiDer,
    issuer: { certificateDer: root, signer: rootSigner },
    trustDomain,
    ...validity,
    pathLength: 0,
    nameConstrainToTrustDomain: true,
  });
  return { certificateDer, privateKey: key.privateKey };
}

export async function measureMint(keyType: KeyType, options: { count?: number; concurrency?: number } = {}): Promise<MintBenchResult> {
  const count = options.count ?? DEFAULT_COUNTS[keyType];
  const concurrency = options.concurrency ?? 64;
  const issuer = await benchIssuer();
  const minter = new LeafMinter({ certificateDer: issuer.certificateDer, signer: keyObjectSigner(issuer.privateKey) }, keyType);
  const now = Date.now();
  const request = {
    spiffeId: SpiffeId.parse('spiffe://example.org/ns/default/sa/frontend'),
    dnsNames: ['frontend.default.svc'],
    notBefore: new Date(now - 10_000),
    notAfter: new Date(now + 3_600_000),
  };
  // A TBSCertificate of the same size as the minter's, for the raw bound.
  const sample = await minter.mint(request);
  const outer = readElement(sample.certificateDer, 0);
  const tbsLength = readElement(sample.certificateDer, outer.contentStart).end - outer.contentStart;
  const tbs = Buffer.alloc(tbsLength, 0x5a);

  // Warm up both paths (JIT, thread pool start); pointless for RSA, where keygen is everything.
  if (keyType.startsWith('ec-')) {
    const warmup = Math.min(count, 1_000);
    await throughput(warmup, concurrency, () => minter.mint(request));
    await throughput(warmup, concurrency, async () => signAsync(tbs, issuer.privateKey).then(() => keyPair(keyType)));
  }

  const rawPerSecond = await throughput(count, concurrency, async () => {
    await keyPair(keyType);
    await signAsync(tbs, issuer.privateKey);
  });
  const ecdh = keyType === 'ec-p256' ? createECDH('prime256v1') : undefined;
  const floorPerSecond = ecdh
    ? await throughput(count, concurrency, async () => {
        ecdh.generateKeys();
        ecdh.getPrivateKey();
        await signAsync(tbs, issuer.privateKey);
      })
    : rawPerSecond;
  const mintPerSecond = await throughput(count, concurrency, () => minter.mint(request));
  return { keyType, count, concurrency, mintPerSecond, rawPerSecond, floorPerSecond };
}

export function formatMintTable(results: readonly MintBenchResult[]): string {
  const header = ['key type', 'count', 'in flight', 'mint SVIDs/s', 'generateKeyPair+sign/s', 'mint/raw', 'floor/s', 'mint/floor'];
  const rate = (perSecond: number): string => perSecond.toFixed(perSecond < 100 ? 1 : 0);
  const rows = results.map((r) => [
    r.keyType,
    String(r.count),
    String(r.concurrency),
    rate(r.mintPerSecond),
    rate(r.rawPerSecond),
    (r.mintPerSecond / r.rawPerSecond).toFixed(2),
    rate(r.floorPerSecond),
    (r.mintPerSecond / r.floorPerSecond).toFixed(2),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** Every requested key type in turn (never in parallel: they would share the cores). */
export async function runMintBench(keyTypes: readonly KeyType[] = KEY_TYPES, options: { count?: number; concurrency?: number } = {}): Promise<MintBenchResult[]> {
  const results: MintBenchResult[] = [];
  for (const keyType of keyTypes) results.push(await measureMint(keyType, options));
  return results;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { count: { type: 'string' }, concurrency: { type: 'string', default: '64' }, 'key-types': { type: 'string', default: KEY_TYPES.join(',') } },
  });
  const keyTypes = (values['key-types'] ?? '').split(',').map((name) => {
    if (!(KEY_TYPES as readonly string[]).includes(name)) throw new Error(`unknown key type ${name}; one of ${KEY_TYPES.join(', ')}`);
    return name as KeyType;
  });
  const count = values.count === undefined ? undefined : Number(values.count);
  const concurrency = Number(values.concurrency);
  for (const [flag, value] of [['--count', count ?? 1], ['--concurrency', concurrency]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} must be a positive integer`);
  }
  console.log(`mint: node ${process.version}, ${os.availableParallelism()} cores, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`);
  console.log(formatMintTable(await runMintBench(keyTypes, { count, concurrency })));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
