import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMeshidError } from '../../src/common/errors';
import { resolveSecretName, resolveSecretNames } from '../../src/sds/secret-names';

const web = { spiffeId: 'spiffe://example.org/web', selectors: ['unix:uid:1000'], dnsNames: [] };
const api = { spiffeId: 'spiffe://example.org/api', selectors: ['unix:uid:1000'], dnsNames: [] };
const held = [web, api];

test('reserved names, the trust domain and held SPIFFE IDs resolve to what they serve', () => {
  assert.deepEqual(resolveSecretName('default', held, 'example.org'), { kind: 'svid', entry: web });
  assert.deepEqual(resolveSecretName('spiffe://example.org/api', held, 'example.org'), { kind: 'svid', entry: api });
  assert.deepEqual(resolveSecretName('ROOTCA', held, 'example.org'), { kind: 'bundle', scope: 'roots' });
  assert.deepEqual(resolveSecretName('ALL', held, 'example.org'), { kind: 'bundle', scope: 'all' });
  assert.deepEqual(resolveSecretName('spiffe://example.org', held, 'example.org'), { kind: 'bundle', scope: 'trust-domain' });
});

test('a SPIFFE ID the caller does not hold is refused (NO_IDENTITY), in any trust domain, without saying whether it exists', () => {
  for (const name of ['spiffe://example.org/db', 'spiffe://other.org/web']) {
    assert.throws(() => resolveSecretName(name, held, 'example.org'), (error) => isMeshidError(error, 'NO_IDENTITY') && error.message.includes(name));
  }
});

test('names that cannot exist here resolve to nothing (Delta: removed_resources); SotW refuses them by name', () => {
  for (const name of ['spiffe://other.org', 'rootca', 'Default', '', 'spiffe://Example.org/web', 'spiffe://example.org/web/', 'x'.repeat(10_000)]) {
    assert.equal(resolveSecretName(name, held, 'example.org'), undefined, name.slice(0, 40));
  }
  assert.throws(
    () => resolveSecretNames(['default', 'x'.repeat(10_000)], held, 'example.org'),
    (error) => isMeshidError(error, 'NO_IDENTITY') && error.message.length < 400,
    'a long garbage name is cut short in the message',
  );
  assert.deepEqual([...resolveSecretNames(['*', 'ROOTCA'], held, 'example.org').keys()], ['ROOTCA'], 'the wildcard selects nothing');
});
