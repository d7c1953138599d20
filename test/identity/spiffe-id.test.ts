import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpiffeId } from '../../src/identity/spiffe-id';

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
