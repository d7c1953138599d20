import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMeshidError } from '../../src/common/errors';
import { SpiffeId, validateTrustDomain } from '../../src/identity/spiffe-id';

test('valid SPIFFE IDs parse into trust domain and path', () => {
  const id = SpiffeId.parse('spiffe://example.org/ns/default/sa/web-1_x.y');
  assert.equal(id.trustDomain, 'example.org');
  assert.equal(id.path, '/ns/default/sa/web-1_x.y');
  assert.equal(SpiffeId.parse('spiffe://example.org').isRoot, true);
});

test('each kind of invalid SPIFFE ID is refused with its reason', () => {
  const cases: [string, RegExp][] = [
    ['http://example.org/a', /scheme/],
    ['SPIFFE://example.org/a', /scheme/],
    ['spiffe://Example.org/a', /lowercase/],
    ['spiffe://example.org:8080/a', /port/],
    ['spiffe://user@example.org/a', /userinfo/],
    ['spiffe://example.org/a?b=c', /query/],
    ['spiffe://example.org/a#b', /fragment/],
    ['spiffe://example.org/a/', /end with/],
    ['spiffe://example.org//a', /empty segment/],
    ['spiffe://example.org/./a', /"\."/],
    ['spiffe://example.org/a/..', /"\.\."/],
    ['spiffe://example.org/a b', /may contain only/],
    ['spiffe:///a', /empty/],
  ];
  for (const [text, reason] of cases) assert.throws(() => SpiffeId.parse(text), reason, text);
});

test('parse round-trips and keeps case in the path', () => {
  for (const text of ['spiffe://example.org', 'spiffe://example.org/A/b-C/d_E/f.G', 'spiffe://a-b_c.d9/x', 'spiffe://example.org/...x/x..', 'spiffe://127.0.0.1/x']) {
    const id = SpiffeId.parse(text);
    assert.equal(id.toString(), text);
    assert.equal(id.isRoot, id.path === '');
  }
});

test('more invalid SPIFFE IDs: empty parts, encodings, non-ASCII, length; always INVALID_SPIFFE_ID', () => {
  const cases: [string, RegExp][] = [
    ['', /scheme/],
    ['spiffe://', /empty/],
    ['spiffe:/example.org/a', /scheme/],
    ['spiffe://example.org/', /end with/],
    ['spiffe://example.org/a/b/', /end with/],
    ['spiffe://example.org/..', /"\.\."/],
    ['spiffe://example.org/a%2Fb', /may contain only/],
    ['spiffe://exa%6Dple.org/a', /lowercase/],
    ['spiffe://example.org/caf\u00e9', /may contain only/],
    ['spiffe://b\u00fccher.org/a', /lowercase/],
    ['spiffe://example.org/a?', /query/],
    ['spiffe://example.org?x', /query/],
    ['spiffe://exa mple.org/a', /lowercase/],
    ['spiffe://example.org/a\nb', /may contain only/],
    [`spiffe://example.org/${'a'.repeat(2048)}`, /2048 bytes/],
  ];
  for (const [text, reason] of cases) {
    assert.throws(
      () => SpiffeId.parse(text),
      (error: unknown) => isMeshidError(error, 'INVALID_SPIFFE_ID') && reason.test(error.message),
      JSON.stringify(text.slice(0, 60)),
    );
  }
});

test('IDs up to 2048 bytes parse; errors do not echo a huge input', () => {
  const prefix = 'spiffe://example.org/';
  assert.equal(SpiffeId.parse(prefix + 'a'.repeat(2048 - prefix.length)).toString().length, 2048);
  assert.throws(() => SpiffeId.parse(prefix + 'a'.repeat(2049 - prefix.length)), /2048 bytes/);
  try {
    SpiffeId.parse(`${prefix}${'a'.repeat(5000)}`);
    assert.fail('should throw');
  } catch (error) {
    assert.ok((error as Error).message.length < 400);
  }
});

test('validateTrustDomain: lowercase letters, digits, ".", "-", "_" only', () => {
  for (const name of ['example.org', 'a', 'my_domain-1.test']) assert.equal(validateTrustDomain(name), undefined, name);
  for (const name of ['', 'Example.org', 'example.org:443', 'user@example.org', 'example.org/a', 'ex ample', 'b\u00fccher.de']) {
    assert.ok(validateTrustDomain(name), JSON.stringify(name));
  }
});
