import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { test } from 'node:test';
import * as x509 from '@peculiar/x509';
import { isMeshidError } from '../../src/common/errors';
import { generateKey } from '../../src/identity/key-type';
import { LeafMinter, type LeafRequest } from '../../src/identity/leaf-minter';
import { keyObjectSigner } from '../../src/identity/signer';
import { SpiffeId } from '../../src/identity/spiffe-id';
import { openssl } from '../support/openssl';
import { buildChain, HOUR, pemDir } from './chain-fixture';
import { needs } from '../support/tools';

const chainPromise = buildChain('ec-p256');
const now = Date.now();
const request: LeafRequest = {
  spiffeId: SpiffeId.parse('spiffe://example.org/web'),
  dnsNames: [],
  notBefore: new Date(now - 10_000),
  notAfter: new Date(now + HOUR),
};

test('serial numbers differ across 1000 mints, and each is a positive 16-byte integer', async () => {
  const { minter } = await chainPromise;
  const leaves = await Promise.all(Array.from({ length: 1000 }, () => minter.mint(request)));
  const serials = leaves.map((leaf) => leaf.serialHex);
  assert.equal(new Set(serials).size, 1000);
  for (const serial of serials) assert.match(serial, /^[4-7][0-9a-f]{31}$/, 'top bit clear, next bit set: 126 random bits');
  // Cross-check the certificate's own field for a sample.
  assert.equal(new x509.X509Certificate((leaves[0] ?? assert.fail()).certificateDer).serialNumber.toLowerCase(), serials[0]);
});

test('two mints produce different keys', async () => {
  const { minter } = await chainPromise;
  const [a, b] = await Promise.all([minter.mint(request), minter.mint(request)]);
  assert.ok(a && b);
  assert.notDeepEqual(a.privateKeyPkcs8Der, b.privateKeyPkcs8Der);
  assert.notDeepEqual(Buffer.from(new x509.X509Certificate(a.certificateDer).publicKey.rawData), Buffer.from(new x509.X509Certificate(b.certificateDer).publicKey.rawData));
});

test('a leaf needs an ID with a path (X509-SVID §2)', async () => {
  const { minter } = await chainPromise;
  await assert.rejects(minter.mint({ ...request, spiffeId: SpiffeId.parse('spiffe://example.org') }), (error) => isMeshidError(error, 'INVALID_SPIFFE_ID'));
});

test('invalid DNS names are refused before anything is signed', async () => {
  const { minter } = await chainPromise;
  for (const name of ['', 'ex ample.org', 'bücher.example', '-a.example', 'a..b', 'a.*.example', `${'a'.repeat(64)}.example`]) {
    await assert.rejects(minter.mint({ ...request, dnsNames: [name] }), (error) => isMeshidError(error, 'INVALID_CONFIG'), JSON.stringify(name));
  }
  const ok = await minter.mint({ ...request, dnsNames: ['*.example.org', 'a-b.c1.example', 'localhost'] });
  assert.ok(ok.certificateDer.length > 0);
});

test('validity: whole seconds as written, notAfter after notBefore, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5)', { skip: needs('openssl') }, async () => {
  const { minter } = await chainPromise;
  await assert.rejects(minter.mint({ ...request, notAfter: request.notBefore }), (error) => isMeshidError(error, 'INTERNAL'));
  await assert.rejects(minter.mint({ ...request, notAfter: new Date(Number.NaN) }), (error) => isMeshidError(error, 'INTERNAL') && /notAfter Invalid Date is not after notBefore/.test(error.message));

  const notBefore = new Date(Date.UTC(2049, 11, 31, 23, 59, 59, 999));
  const notAfter = new Date(Date.UTC(2050, 0, 1, 0, 0, 7, 250));
  const leaf = await minter.mint({ ...request, notBefore, notAfter });
  assert.equal(leaf.notBefore.toISOString(), '2049-12-31T23:59:59.000Z');
  assert.equal(leaf.notAfter.toISOString(), '2050-01-01T00:00:07.000Z');
  const certificate = new x509.X509Certificate(leaf.certificateDer);
  assert.equal(certificate.notBefore.toISOString(), '2049-12-31T23:59:59.000Z');
  assert.equal(certificate.notAfter.toISOString(), '2050-01-01T00:00:07.000Z');
  // UTCTime "491231235959Z" then GeneralizedTime "20500101000007Z", byte for byte.
  assert.ok(leaf.certificateDer.includes(Buffer.from('\x17\x0d491231235959Z', 'latin1')));
  assert.ok(leaf.certificateDer.includes(Buffer.from('\x18\x0f20500101000007Z', 'latin1')));

  const { dir, cleanup } = await pemDir({ 'leaf.pem': leaf.certificateDer });
  try {
    const { output } = await openssl(['x509', '-in', 'leaf.pem', '-noout', '-dates'], dir);
    assert.match(output, /notBefore=Dec 31 23:59:59 2049 GMT/);
    assert.match(output, /notAfter=Jan {2}1 00:00:07 2050 GMT/);
  } finally {
    await cleanup();
  }
});

test('subject: O=meshid, plus CN = the first DNS name when it fits ub-common-name (64)', async () => {
  const { minter } = await chainPromise;
  const subject = async (dnsNames: string[]): Promise<string> => new x509.X509Certificate((await minter.mint({ ...request, dnsNames })).certificateDer).subject;
  assert.equal(await subject([]), 'O=meshid');
  assert.equal(await subject(['api.example.org', 'api']), 'O=meshid, CN=api.example.org');
  const long = `${'a'.repeat(60)}.example.org`;
  assert.equal(await subject([long]), 'O=meshid');
});

test('a long SPIFFE ID and many DNS names (multi-byte DER lengths) still verify', { skip: needs('openssl') }, async () => {
  const { minter, root, intermediate } = await chainPromise;
  const spiffeId = SpiffeId.parse(`spiffe://example.org/${Array.from({ length: 60 }, (_, i) => `segment-${i}`).join('/')}`);
  const dnsNames = Array.from({ length: 40 }, (_, i) => `host-${i}.example.org`);
  const leaf = await minter.mint({ ...request, spiffeId, dnsNames });
  assert.ok(leaf.certificateDer.length > 1000);
  const san = new x509.X509Certificate(leaf.certificateDer).getExtension(x509.SubjectAlternativeNameExtension);
  assert.deepEqual(san?.names.items.map((name) => name.value), [spiffeId.toString(), ...dnsNames]);
  const { dir, cleanup } = await pemDir({ 'root.pem': root, 'intermediate.pem': intermediate, 'leaf.pem': leaf.certificateDer });
  try {
    const result = await openssl(['verify', '-x509_strict', '-CAfile', 'root.pem', '-untrusted', 'intermediate.pem', 'leaf.pem'], dir);
    assert.ok(result.ok, result.output);
  } finally {
    await cleanup();
  }
});

test('the minter refuses an issuer whose signer key is not the certificate key, or that may not sign', async () => {
  const { intermediate, root, rootSigner } = await chainPromise;
  const stranger = keyObjectSigner((await generateKey('ec-p256')).privateKey);
  assert.throws(() => new LeafMinter({ certificateDer: intermediate, signer: stranger }, 'ec-p256'), (error) => isMeshidError(error, 'UPSTREAM'));
  // A leaf (keyUsage digitalSignature only) cannot be an issuer.
  const minter = new LeafMinter({ certificateDer: root, signer: rootSigner }, 'ec-p256');
  const leaf = await minter.mint(request);
  const leafKey = createPrivateKey({ key: leaf.privateKeyPkcs8Der, format: 'der', type: 'pkcs8' });
  assert.throws(() => new LeafMinter({ certificateDer: leaf.certificateDer, signer: keyObjectSigner(leafKey) }, 'ec-p256'), (error) => isMeshidError(error, 'UPSTREAM'));
});
