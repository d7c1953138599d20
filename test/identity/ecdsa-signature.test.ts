import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { test } from 'node:test';
import { ecdsaRawToDer } from '../../src/identity/ecdsa-signature';

test('r||s signatures (IEEE P1363, as PKCS#11 returns them) become DER that verifies', () => {
  for (const [namedCurve, digest] of [['P-256', 'sha256'], ['P-384', 'sha384']] as const) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
    // Enough signatures that r or s with a high bit set (needs a 00 pad) and with leading zero
    // bytes (must be trimmed) both occur; a wrong encoding fails verification.
    for (let i = 0; i < 200; i++) {
      const data = Buffer.from(`message ${i}`);
      const raw = sign(digest, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      assert.ok(verify(digest, data, publicKey, ecdsaRawToDer(raw)), `${namedCurve} signature ${i}`);
    }
  }
});

test('INTEGERs are minimal and non-negative: a high bit is padded, leading zeros are trimmed', () => {
  const r = Buffer.alloc(32, 0x11);
  r[0] = 0x80;
  const s = Buffer.alloc(32, 0x22);
  s[0] = 0;
  s[1] = 0;
  s[2] = 0x7f;
  const der = ecdsaRawToDer(Buffer.concat([r, s]));
  assert.equal(der.toString('hex'), `3043` + `0221` + `00${r.toString('hex')}` + `021e` + s.subarray(2).toString('hex'));
});

test('an odd or empty raw signature is refused', () => {
  assert.throws(() => ecdsaRawToDer(Buffer.alloc(63)), /not r\|\|s/);
  assert.throws(() => ecdsaRawToDer(Buffer.alloc(0)), /not r\|\|s/);
});
