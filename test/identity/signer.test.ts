import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { test } from 'node:test';
import { isMeshidError } from '../../src/common/errors';
import { generateKey, KEY_TYPES, type KeyType } from '../../src/identity/key-type';
import { keyObjectSigner } from '../../src/identity/signer';

// DER AlgorithmIdentifiers: RFC 5758 §3.2 (ECDSA, no parameters), RFC 4055 §5 (RSA, NULL).
const EXPECTED: Record<KeyType, { algorithm: string; digest: string }> = {
  'ec-p256': { algorithm: '300a06082a8648ce3d040302', digest: 'sha256' },
  'ec-p384': { algorithm: '300a06082a8648ce3d040303', digest: 'sha384' },
  'rsa-2048': { algorithm: '300d06092a864886f70d01010b0500', digest: 'sha256' },
  'rsa-3072': { algorithm: '300d06092a864886f70d01010b0500', digest: 'sha256' },
  'rsa-4096': { algorithm: '300d06092a864886f70d01010b0500', digest: 'sha256' },
};

for (const keyType of KEY_TYPES) {
  test(`keyObjectSigner for ${keyType}: algorithm, public key and a verifiable signature`, async () => {
    const key = await generateKey(keyType);
    const signer = keyObjectSigner(key.privateKey);
    assert.equal(signer.signatureAlgorithmDer.toString('hex'), EXPECTED[keyType].algorithm);
    assert.deepEqual(signer.publicKeySpkiDer, key.publicKeySpkiDer);
    const data = Buffer.from('a TBSCertificate');
    const signature = await signer.sign(data);
    const publicKey = createPublicKey({ key: signer.publicKeySpkiDer, format: 'der', type: 'spki' });
    assert.ok(verify(EXPECTED[keyType].digest, data, publicKey, signature));
  });
}

test('keyObjectSigner refuses other key types and public keys with UPSTREAM', () => {
  const ed25519 = generateKeyPairSync('ed25519');
  assert.throws(() => keyObjectSigner(ed25519.privateKey), (error) => isMeshidError(error, 'UPSTREAM') && /ed25519/.test(error.message));
  const secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
  assert.throws(() => keyObjectSigner(secp256k1.privateKey), (error) => isMeshidError(error, 'UPSTREAM'));
  assert.throws(() => keyObjectSigner(secp256k1.publicKey), (error) => isMeshidError(error, 'UPSTREAM'));
});
