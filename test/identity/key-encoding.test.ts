import assert from 'node:assert/strict';
import { createECDH, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { test } from 'node:test';
import { encodeRawEcKey } from '../../src/identity/ec-key-encoding';
import { generateKey } from '../../src/identity/key-type';
import { LeafKeySource } from '../../src/identity/leaf-key';

/** What Node itself (OpenSSL's encoders) writes for the key in `pkcs8`. */
function nodeEncodings(pkcs8: Buffer): { spki: Buffer; pkcs8: Buffer } {
  const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  return { spki: createPublicKey(privateKey).export({ type: 'spki', format: 'der' }), pkcs8: privateKey.export({ type: 'pkcs8', format: 'der' }) };
}

for (const keyType of ['ec-p256', 'ec-p384'] as const) {
  test(`${keyType}: hand-written SPKI and PKCS#8 are byte-identical to OpenSSL's`, async () => {
    for (let i = 0; i < 200; i++) {
      const generated = await generateKey(keyType);
      assert.deepEqual(generated.publicKeySpkiDer, createPublicKey(generated.privateKey).export({ type: 'spki', format: 'der' }));
      assert.deepEqual(generated.privateKeyPkcs8Der, generated.privateKey.export({ type: 'pkcs8', format: 'der' }));
      const leaf = await new LeafKeySource().generate(keyType);
      const expected = nodeEncodings(leaf.privateKeyPkcs8Der);
      assert.deepEqual(leaf.publicKeySpkiDer, expected.spki);
      assert.deepEqual(leaf.privateKeyPkcs8Der, expected.pkcs8);
    }
  });
}

test('a private scalar with leading zero bytes keeps its full width (RFC 5915 §3)', () => {
  const ecdh = createECDH('prime256v1');
  let point = ecdh.generateKeys();
  // About 1 key in 256 has a leading zero byte, which getPrivateKey() drops.
  while (ecdh.getPrivateKey().length === 32) point = ecdh.generateKeys();
  const encoded = encodeRawEcKey('P-256', ecdh.getPrivateKey(), point);
  const expected = nodeEncodings(encoded.privateKeyPkcs8Der);
  assert.deepEqual(encoded.privateKeyPkcs8Der, expected.pkcs8);
  assert.deepEqual(encoded.publicKeySpkiDer, expected.spki);
  const privateKey = createPrivateKey({ key: encoded.privateKeyPkcs8Der, format: 'der', type: 'pkcs8' });
  const signature = sign('sha256', Buffer.from('x'), privateKey);
  assert.ok(verify('sha256', Buffer.from('x'), createPublicKey({ key: encoded.publicKeySpkiDer, format: 'der', type: 'spki' }), signature));
});

test('RSA keys: the encodings belong to the KeyObject', async () => {
  const generated = await generateKey('rsa-2048');
  assert.equal(generated.privateKey.asymmetricKeyDetails?.modulusLength, 2048);
  const expected = nodeEncodings(generated.privateKeyPkcs8Der);
  assert.deepEqual(generated.publicKeySpkiDer, expected.spki);
  assert.deepEqual(generated.privateKeyPkcs8Der, expected.pkcs8);
});
