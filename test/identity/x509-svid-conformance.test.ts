import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate as NodeCertificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as x509 from '@peculiar/x509';
import { createCaCertificate } from '../../src/identity/ca-certificate';
import { generateKey, KEY_TYPES } from '../../src/identity/key-type';
import { LeafMinter } from '../../src/identity/leaf-minter';
import { derToPem } from '../../src/identity/pem';
import { keyObjectSigner } from '../../src/identity/signer';
import { SpiffeId } from '../../src/identity/spiffe-id';
import { openssl } from '../support/openssl';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';

const NOW = Date.now();
let dir: string;
let root: Buffer;
let intermediate: Buffer;
let intermediateSigner: ReturnType<typeof keyObjectSigner>;

before(async () => {
  dir = await makeTempDir('meshid-x509-');
  const rootKey = await generateKey('ec-p384');
  const rootSigner = keyObjectSigner(rootKey.privateKey);
  root = await createCaCertificate({ subjectCommonName: 'root', subjectPublicKeySpkiDer: rootKey.publicKeySpkiDer, issuer: { signer: rootSigner }, trustDomain: 'example.org', notBefore: new Date(NOW - 60_000), notAfter: new Date(NOW + 86_400_000) });
  const intermediateKey = await generateKey('ec-p256');
  intermediateSigner = keyObjectSigner(intermediateKey.privateKey);
  intermediate = await createCaCertificate({
    subjectCommonName: 'node',
    subjectPublicKeySpkiDer: intermediateKey.publicKeySpkiDer,
    issuer: { certificateDer: root, signer: rootSigner },
    trustDomain: 'example.org',
    notBefore: new Date(NOW - 10_000),
    notAfter: new Date(NOW + 3_600_000),
    pathLength: 0,
    nameConstrainToTrustDomain: true,
  });
  await writeFile(path.join(dir, 'root.pem'), derToPem('CERTIFICATE', root));
  await writeFile(path.join(dir, 'intermediate.pem'), derToPem('CERTIFICATE', intermediate));
});
after(removeTempDirs);

test('the node intermediate: CA, pathLen 0, keyCertSign, critical name constraints, trust domain ID', async () => {
  const cert = new x509.X509Certificate(intermediate);
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  assert.equal(basic?.ca, true);
  assert.equal(basic?.pathLength, 0);
  assert.equal(basic?.critical, true);
  const usage = cert.getExtension(x509.KeyUsagesExtension);
  assert.equal(usage?.critical, true);
  assert.ok(((usage?.usages ?? 0) & x509.KeyUsageFlags.keyCertSign) !== 0);
  const constraints = cert.getExtension('2.5.29.30');
  assert.equal(constraints?.critical, true);
  const text = await openssl(['x509', '-in', 'intermediate.pem', '-noout', '-text'], dir);
  assert.match(text.output, /X509v3 Name Constraints: critical\s+Permitted:\s+URI:example\.org/);
  assert.match(text.output, /URI:spiffe:\/\/example\.org\s*$/m);
});

for (const keyType of KEY_TYPES) {
  test(`X.509-SVID conformance for ${keyType}, checked by @peculiar/x509 and openssl`, async () => {
    const minter = new LeafMinter({ certificateDer: intermediate, signer: intermediateSigner }, keyType);
    const notBefore = new Date(Math.floor((NOW - 10_000) / 1000) * 1000);
    const notAfter = new Date(Math.floor((NOW + 600_000) / 1000) * 1000);
    const leaf = await minter.mint({ spiffeId: SpiffeId.parse('spiffe://example.org/ns/web/sa/api'), dnsNames: ['api.local'], notBefore, notAfter });
    const cert = new x509.X509Certificate(leaf.certificateDer);

    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    const uris = san?.names.items.filter((name) => name.type === 'url').map((name) => name.value);
    assert.deepEqual(uris, ['spiffe://example.org/ns/web/sa/api'], 'exactly one URI SAN');
    assert.deepEqual(san?.names.items.filter((name) => name.type === 'dns').map((name) => name.value), ['api.local']);
    const basic = cert.getExtension(x509.BasicConstraintsExtension);
    assert.equal(basic?.ca, false);
    assert.equal(basic?.critical, true);
    const usage = cert.getExtension(x509.KeyUsagesExtension);
    assert.equal(usage?.critical, true);
    assert.ok(((usage?.usages ?? 0) & x509.KeyUsageFlags.digitalSignature) !== 0);
    assert.equal((usage?.usages ?? 0) & (x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign), 0);
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
    assert.deepEqual([...(eku?.usages ?? [])].sort(), [x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.serverAuth].sort());
    const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
    const issuerSki = new x509.X509Certificate(intermediate).getExtension(x509.SubjectKeyIdentifierExtension);
    assert.equal(aki?.keyId, issuerSki?.keyId, 'AKI links to the issuer SKI');
    assert.ok(cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
    assert.ok(Buffer.from(cert.serialNumber, 'hex').length * 8 >= 64, 'serial has at least 64 bits');
    assert.equal(cert.notBefore.getTime(), notBefore.getTime());
    assert.equal(cert.notAfter.getTime(), notAfter.getTime());

    const key = createPrivateKey({ key: leaf.privateKeyPkcs8Der, format: 'der', type: 'pkcs8' });
    assert.ok(new NodeCertificate(leaf.certificateDer).checkPrivateKey(key), 'the key matches the certificate');

    const file = `leaf-${keyType}.pem`;
    await writeFile(path.join(dir, file), derToPem('CERTIFICATE', leaf.certificateDer));
    const text = await openssl(['x509', '-in', file, '-noout', '-text'], dir);
    assert.ok(text.ok, text.output);
    assert.match(text.output, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
    assert.match(text.output, /X509v3 Key Usage: critical\s+Digital Signature/);
    assert.match(text.output, /TLS Web Server Authentication, TLS Web Client Authentication/);
    assert.match(text.output, /URI:spiffe:\/\/example\.org\/ns\/web\/sa\/api, DNS:api\.local/);
    const verify = await openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'intermediate.pem', file], dir);
    assert.ok(verify.ok, verify.output);
  });
}

test('name constraints are enforced: openssl refuses a leaf for another trust domain', async () => {
  const minter = new LeafMinter({ certificateDer: intermediate, signer: intermediateSigner }, 'ec-p256');
  const rogue = await minter.mint({ spiffeId: SpiffeId.parse('spiffe://other.org/web'), dnsNames: [], notBefore: new Date(NOW - 10_000), notAfter: new Date(NOW + 600_000) });
  await writeFile(path.join(dir, 'rogue.pem'), derToPem('CERTIFICATE', rogue.certificateDer));
  const verify = await openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'intermediate.pem', 'rogue.pem'], dir);
  assert.equal(verify.ok, false);
  assert.match(verify.output, /permitted subtree violation/);
});

test('serials and keys differ across mints; a leaf needs an ID with a path', async () => {
  const minter = new LeafMinter({ certificateDer: intermediate, signer: intermediateSigner }, 'ec-p256');
  const request = { spiffeId: SpiffeId.parse('spiffe://example.org/web'), dnsNames: [], notBefore: new Date(NOW), notAfter: new Date(NOW + 600_000) };
  const leaves = await Promise.all(Array.from({ length: 500 }, () => minter.mint(request)));
  assert.equal(new Set(leaves.map((leaf) => leaf.serialHex)).size, 500);
  assert.equal(new Set(leaves.map((leaf) => leaf.privateKeyPkcs8Der.toString('hex'))).size, 500);
  await assert.rejects(minter.mint({ ...request, spiffeId: SpiffeId.parse('spiffe://example.org') }), /needs an ID with a path/);
});
