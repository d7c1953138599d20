/**
 * Root → name-constrained intermediate → X.509-SVID leaf for every key type, checked by two
 * independent parsers (@peculiar/x509 and openssl) and by `openssl verify`. No mocks: the
 * bytes here are what relying parties get.
 */
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate as NodeCertificate } from 'node:crypto';
import { describe, test } from 'node:test';
import * as x509 from '@peculiar/x509';
import { createCaCertificate } from '../../src/identity/ca-certificate';
import { generateKey, isRsa, KEY_TYPES, type KeyType } from '../../src/identity/key-type';
import { LeafMinter } from '../../src/identity/leaf-minter';
import { keyObjectSigner } from '../../src/identity/signer';
import { SpiffeId } from '../../src/identity/spiffe-id';
import { openssl } from '../support/openssl';
import { buildChain, HOUR, pemDir } from './chain-fixture';
import { needs } from '../support/tools';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const NAME_CONSTRAINTS = '2.5.29.30';
const SIGNATURE_ALGORITHM: Record<KeyType, string> = {
  'ec-p256': 'ecdsa-with-SHA256',
  'ec-p384': 'ecdsa-with-SHA384',
  'rsa-2048': 'sha256WithRSAEncryption',
  'rsa-3072': 'sha256WithRSAEncryption',
  'rsa-4096': 'sha256WithRSAEncryption',
};

/** As in the DOM lib, which this project does not load; @peculiar/x509's constructors take it. */
type BufferSource = ArrayBufferView | ArrayBuffer;

function extension<T extends x509.Extension>(certificate: x509.X509Certificate, type: new (raw: BufferSource) => T): T {
  const found = certificate.getExtension(type);
  assert.ok(found, `${type.name} present`);
  return found;
}

/** Our SKI must be SHA-1 of the key bits (RFC 5280 §4.2.1.2), as @peculiar computes it. */
async function expectedKeyId(certificate: x509.X509Certificate): Promise<string> {
  return (await x509.SubjectKeyIdentifierExtension.create(certificate.publicKey)).keyId;
}

for (const keyType of KEY_TYPES) {
  describe(`X.509-SVID chain, ${keyType} keys`, () => {
    const spiffeId = SpiffeId.parse('spiffe://example.org/ns/default/sa/frontend');
    const dnsNames = ['frontend.default.svc', 'frontend'];
    const now = Date.now();
    // Milliseconds on purpose: X.509 Time holds whole seconds.
    const notBefore = new Date(now - 10_123);
    const notAfter = new Date(now + HOUR + 456);
    const setup = (async () => {
      const chain = await buildChain(keyType);
      const leaf = await chain.minter.mint({ spiffeId, dnsNames, notBefore, notAfter });
      return { chain, leaf };
    })();

    test('leaf carries exactly the X509-SVID extensions (@peculiar/x509)', async () => {
      const { chain, leaf } = await setup;
      const certificate = new x509.X509Certificate(leaf.certificateDer);
      const issuer = new x509.X509Certificate(chain.intermediate);

      const san = extension(certificate, x509.SubjectAlternativeNameExtension);
      const uris = san.names.items.filter((name) => name.type === 'url').map((name) => name.value);
      assert.deepEqual(uris, [spiffeId.toString()], 'exactly one URI SAN, the SPIFFE ID');
      assert.deepEqual(
        san.names.items.filter((name) => name.type === 'dns').map((name) => name.value),
        dnsNames,
      );
      assert.equal(san.names.items.length, 1 + dnsNames.length, 'no other name types');

      const basic = extension(certificate, x509.BasicConstraintsExtension);
      assert.equal(basic.ca, false);
      assert.equal(basic.critical, true);

      const usage = extension(certificate, x509.KeyUsagesExtension);
      assert.equal(usage.critical, true);
      assert.ok(usage.usages & x509.KeyUsageFlags.digitalSignature);
      assert.equal(usage.usages & (x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign), 0, 'never keyCertSign/cRLSign');
      const allowed = x509.KeyUsageFlags.digitalSignature | (isRsa(keyType) ? x509.KeyUsageFlags.keyEncipherment : 0);
      assert.equal(usage.usages & ~allowed, 0, `only ${isRsa(keyType) ? 'digitalSignature+keyEncipherment' : 'digitalSignature'}`);

      const eku = extension(certificate, x509.ExtendedKeyUsageExtension);
      assert.deepEqual([...eku.usages].sort(), [SERVER_AUTH, CLIENT_AUTH].sort());

      const ski = extension(certificate, x509.SubjectKeyIdentifierExtension);
      assert.equal(ski.keyId, await expectedKeyId(certificate));
      const aki = extension(certificate, x509.AuthorityKeyIdentifierExtension);
      assert.equal(aki.keyId, extension(issuer, x509.SubjectKeyIdentifierExtension).keyId, 'AKI = issuer SKI');

      const serial = Buffer.from(certificate.serialNumber, 'hex');
      assert.ok(serial.length >= 8, 'serial has at least 64 bits');
      assert.equal((serial[0] ?? 0) & 0x80, 0, 'serial is positive');
      assert.ok(serial.some((byte) => byte !== 0));
      assert.equal(certificate.serialNumber.toLowerCase(), leaf.serialHex);

      assert.equal(certificate.notBefore.getTime(), Math.floor(notBefore.getTime() / 1000) * 1000);
      assert.equal(certificate.notAfter.getTime(), Math.floor(notAfter.getTime() / 1000) * 1000);
      assert.equal(leaf.notBefore.getTime(), certificate.notBefore.getTime());
      assert.equal(leaf.notAfter.getTime(), certificate.notAfter.getTime());

      assert.equal(certificate.issuer, issuer.subject, 'issuer name = intermediate subject');
      assert.equal(certificate.subject, 'O=meshid, CN=frontend.default.svc');
      assert.ok(await certificate.verify({ publicKey: issuer.publicKey, signatureOnly: true }), 'signature verifies');
    });

    test('leaf as openssl reads it', { skip: needs('openssl') }, async () => {
      const { leaf } = await setup;
      const { dir, cleanup } = await pemDir({ 'leaf.pem': leaf.certificateDer });
      try {
        const { ok, output } = await openssl(['x509', '-in', 'leaf.pem', '-text', '-noout'], dir);
        assert.ok(ok, output);
        const text = output.replace(/[ \t]+/g, ' ');
        assert.match(text, /Version: 3 \(0x2\)/);
        assert.match(text, new RegExp(`Signature Algorithm: ${SIGNATURE_ALGORITHM[keyType]}`));
        assert.match(text, /X509v3 Basic Constraints: critical\n CA:FALSE\n/);
        const usage = isRsa(keyType) ? 'Digital Signature, Key Encipherment' : 'Digital Signature';
        assert.match(text, new RegExp(`X509v3 Key Usage: critical\\n ${usage}\\n`));
        assert.doesNotMatch(text, /Certificate Sign|CRL Sign/);
        assert.match(text, /X509v3 Extended Key Usage: ?\n TLS Web Server Authentication, TLS Web Client Authentication\n/);
        assert.match(text, /X509v3 Subject Alternative Name: ?\n URI:spiffe:\/\/example.org\/ns\/default\/sa\/frontend, DNS:frontend.default.svc, DNS:frontend\n/);
        assert.match(text, /X509v3 Subject Key Identifier: ?\n [0-9A-F:]{59}\n/);
        assert.match(text, /X509v3 Authority Key Identifier: ?\n [0-9A-F:]{59}\n/);
        assert.equal(text.match(/URI:/g)?.length, 1, 'one URI SAN');
      } finally {
        await cleanup();
      }
    });

    test('private key belongs to the certificate (node:crypto and openssl)', { skip: needs('openssl') }, async () => {
      const { leaf } = await setup;
      const privateKey = createPrivateKey({ key: leaf.privateKeyPkcs8Der, format: 'der', type: 'pkcs8' });
      assert.ok(new NodeCertificate(leaf.certificateDer).checkPrivateKey(privateKey));
      const { dir, cleanup } = await pemDir({ 'leaf.pem': leaf.certificateDer, 'leaf.key': leaf.privateKeyPkcs8Der });
      try {
        const fromKey = await openssl(['pkey', '-in', 'leaf.key', '-pubout'], dir);
        const fromCert = await openssl(['x509', '-in', 'leaf.pem', '-noout', '-pubkey'], dir);
        assert.ok(fromKey.ok && fromCert.ok, fromKey.output + fromCert.output);
        assert.equal(fromKey.output, fromCert.output);
      } finally {
        await cleanup();
      }
    });

    test('openssl verifies the chain (strict, both TLS purposes)', { skip: needs('openssl') }, async () => {
      const { chain, leaf } = await setup;
      const { dir, cleanup } = await pemDir({ 'root.pem': chain.root, 'intermediate.pem': chain.intermediate, 'leaf.pem': leaf.certificateDer });
      try {
        for (const purpose of ['sslserver', 'sslclient']) {
          const result = await openssl(['verify', '-x509_strict', '-purpose', purpose, '-CAfile', 'root.pem', '-untrusted', 'intermediate.pem', 'leaf.pem'], dir);
          assert.ok(result.ok, result.output);
          assert.equal(result.output.trim(), 'leaf.pem: OK');
        }
      } finally {
        await cleanup();
      }
    });

    test('intermediate: cA, pathLen 0, keyCertSign, critical name constraints, linked to the root', { skip: needs('openssl') }, async () => {
      const { chain } = await setup;
      const intermediate = new x509.X509Certificate(chain.intermediate);
      const root = new x509.X509Certificate(chain.root);
      const basic = extension(intermediate, x509.BasicConstraintsExtension);
      assert.deepEqual([basic.ca, basic.pathLength, basic.critical], [true, 0, true]);
      const usage = extension(intermediate, x509.KeyUsagesExtension);
      assert.equal(usage.critical, true);
      assert.ok(usage.usages & x509.KeyUsageFlags.keyCertSign);
      assert.ok(usage.usages & x509.KeyUsageFlags.cRLSign);
      const constraints = intermediate.getExtension(NAME_CONSTRAINTS);
      assert.ok(constraints, 'nameConstraints present');
      assert.equal(constraints.critical, true);
      const san = extension(intermediate, x509.SubjectAlternativeNameExtension);
      assert.deepEqual(san.names.toJSON(), [{ type: 'url', value: 'spiffe://example.org' }]);
      assert.equal(extension(intermediate, x509.SubjectKeyIdentifierExtension).keyId, await expectedKeyId(intermediate));
      assert.equal(extension(intermediate, x509.AuthorityKeyIdentifierExtension).keyId, extension(root, x509.SubjectKeyIdentifierExtension).keyId);
      assert.equal(intermediate.issuer, root.subject);
      assert.equal(Buffer.from(intermediate.serialNumber, 'hex').length >= 8, true);

      const { dir, cleanup } = await pemDir({ 'intermediate.pem': chain.intermediate });
      try {
        const { output } = await openssl(['x509', '-in', 'intermediate.pem', '-text', '-noout'], dir);
        const text = output.replace(/[ \t]+/g, ' ');
        assert.match(text, /X509v3 Basic Constraints: critical\n CA:TRUE, pathlen:0\n/);
        assert.match(text, /X509v3 Key Usage: critical\n Digital Signature, Certificate Sign, CRL Sign\n/);
        assert.match(text, /X509v3 Name Constraints: critical\n Permitted:\n URI:example.org\n/);
      } finally {
        await cleanup();
      }
    });

    test('root: self-signed, cA without path limit, AKI = SKI', async () => {
      const { chain } = await setup;
      const root = new x509.X509Certificate(chain.root);
      assert.ok(await root.isSelfSigned());
      const basic = extension(root, x509.BasicConstraintsExtension);
      assert.deepEqual([basic.ca, basic.pathLength, basic.critical], [true, undefined, true]);
      assert.equal(root.getExtension(NAME_CONSTRAINTS), null);
      assert.equal(extension(root, x509.AuthorityKeyIdentifierExtension).keyId, extension(root, x509.SubjectKeyIdentifierExtension).keyId);
      assert.equal(root.issuer, root.subject);
    });

    test('openssl refuses a leaf of another trust domain under the name-constrained intermediate', { skip: needs('openssl') }, async () => {
      const { chain } = await setup;
      const foreign = await chain.minter.mint({ spiffeId: SpiffeId.parse('spiffe://other.org/x'), dnsNames: [], notBefore, notAfter });
      const { dir, cleanup } = await pemDir({ 'root.pem': chain.root, 'intermediate.pem': chain.intermediate, 'foreign.pem': foreign.certificateDer });
      try {
        const result = await openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'intermediate.pem', 'foreign.pem'], dir);
        assert.equal(result.ok, false, result.output);
        assert.match(result.output, /permitted subtree violation/);
      } finally {
        await cleanup();
      }
    });
  });
}

test('openssl refuses a CA under the pathLen 0 intermediate (path length is enforced)', { skip: needs('openssl') }, async () => {
  const chain = await buildChain('ec-p256');
  const key = await generateKey('ec-p256');
  const now = Date.now();
  const validity = { notBefore: new Date(now - 1000), notAfter: new Date(now + HOUR) };
  const subCa = await createCaCertificate({
    subjectCommonName: 'rogue sub-CA',
    subjectPublicKeySpkiDer: key.publicKeySpkiDer,
    issuer: { certificateDer: chain.intermediate, signer: chain.intermediateSigner },
    trustDomain: 'example.org',
    ...validity,
  });
  const minter = new LeafMinter({ certificateDer: subCa, signer: keyObjectSigner(key.privateKey) }, 'ec-p256');
  const leaf = await minter.mint({ spiffeId: SpiffeId.parse('spiffe://example.org/x'), dnsNames: [], ...validity });
  const { dir, cleanup } = await pemDir({ 'root.pem': chain.root, 'untrusted.pem': [subCa, chain.intermediate], 'leaf.pem': leaf.certificateDer });
  try {
    const result = await openssl(['verify', '-CAfile', 'root.pem', '-untrusted', 'untrusted.pem', 'leaf.pem'], dir);
    assert.equal(result.ok, false, result.output);
    assert.match(result.output, /path length constraint exceeded/);
  } finally {
    await cleanup();
  }
});
