import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { headerLength, oid, tlv, writeHeader } from '../../src/identity/der';
import { readElement } from '../../src/identity/der-reader';
import { validateDnsName } from '../../src/identity/dns-name';
import { derToPem, pemToDerList } from '../../src/identity/pem';
import { encodeTime } from '../../src/identity/x509-time';
import { buildChain } from './chain-fixture';

test('DER lengths: short form below 128, then 1, 2, 3 length octets (X.690 §8.1.3)', () => {
  for (const [length, header] of [[0, '0400'], [127, '047f'], [128, '048180'], [255, '0481ff'], [256, '04820100'], [65535, '0482ffff'], [65536, '0483010000']] as const) {
    const out = Buffer.alloc(headerLength(length));
    assert.equal(writeHeader(out, 0, 0x04, length), out.length);
    assert.equal(out.toString('hex'), header);
    const encoded = tlv(0x04, Buffer.alloc(length));
    assert.equal(readElement(encoded, 0).end, encoded.length);
  }
  assert.equal(oid('1.2.840.113549.1.1.11').toString('hex'), '06092a864886f70d01010b');
  assert.throws(() => readElement(Buffer.from('0405aabb', 'hex'), 0), /runs past/);
});

test('X.509 Time: UTCTime for 1950-2049, GeneralizedTime otherwise, whole seconds (RFC 5280 §4.1.2.5)', () => {
  const text = (iso: string): string => encodeTime(new Date(iso)).subarray(2).toString('latin1');
  const tag = (iso: string): number | undefined => encodeTime(new Date(iso))[0];
  assert.equal(text('2026-03-04T05:06:07.890Z'), '260304050607Z');
  assert.equal(tag('2026-03-04T05:06:07Z'), 0x17);
  assert.equal(text('1950-01-01T00:00:00Z'), '500101000000Z');
  assert.equal(text('2049-12-31T23:59:59Z'), '491231235959Z');
  assert.equal(tag('2050-01-01T00:00:00Z'), 0x18);
  assert.equal(text('2050-01-01T00:00:00Z'), '20500101000000Z');
  assert.equal(text('1949-12-31T23:59:59Z'), '19491231235959Z');
  assert.equal(text('9999-12-31T23:59:59Z'), '99991231235959Z');
  assert.throws(() => encodeTime(new Date(Number.NaN)), RangeError);
});

test('PEM: round trip, several blocks, label filter', async () => {
  const { root, intermediate } = await buildChain('ec-p256');
  const pem = derToPem('CERTIFICATE', root) + derToPem('PRIVATE KEY', Buffer.from('not a key')) + derToPem('CERTIFICATE', intermediate);
  assert.ok(pem.split('\n').every((line) => line.length <= 64), 'lines of at most 64 characters (RFC 7468 §2)');
  assert.equal(new X509Certificate(derToPem('CERTIFICATE', root)).raw.equals(root), true, 'node parses it');
  assert.deepEqual(pemToDerList(pem, 'CERTIFICATE'), [root, intermediate]);
  assert.equal(pemToDerList(pem).length, 3);
  assert.deepEqual(pemToDerList(pem.replace(/\n/g, '\r\n'), 'CERTIFICATE'), [root, intermediate]);
});

test('DNS names for SANs: LDH labels, optional leading wildcard (RFC 5280 §4.2.1.6)', () => {
  for (const name of ['example.org', 'a', 'x-1.y-2.example', '*.example.org', `${'a'.repeat(63)}.org`]) assert.equal(validateDnsName(name), undefined, name);
  for (const name of ['', '*', 'a.*.org', '*.*.org', 'a_b.org', '-a.org', 'a-.org', 'a..org', 'a.org.', 'ü.org', `${'a'.repeat(64)}.org`, `${'a.'.repeat(127)}ab`]) {
    assert.ok(validateDnsName(name), JSON.stringify(name));
  }
});
