import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../../src/agent/config/load';

function problems(raw: unknown): string[] {
  try {
    parseConfig(raw, { baseDir: '/' });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

test('jwt: each key is optional and gets its default on its own', () => {
  const config = parseConfig({ trustDomain: 'example.org', jwt: { algorithm: 'RS256' } }, { baseDir: '/' });
  assert.deepEqual(config.jwt, { ttlMs: 300_000, algorithm: 'RS256', keyTtlMs: 86_400_000 });
  assert.deepEqual(parseConfig({ trustDomain: 'example.org', jwt: { ttl: '90s', keyTtl: '2h' } }, { baseDir: '/' }).jwt, { ttlMs: 90_000, algorithm: 'ES256', keyTtlMs: 7_200_000 });
});

test('jwt: a wrong algorithm, a too-short ttl or keyTtl and an unknown key are each reported, together', () => {
  assert.deepEqual(problems({ trustDomain: 'example.org', jwt: { ttl: '5s', algorithm: 'HS256', keyTtl: '30s', audience: 'x' } }), [
    'jwt.ttl: "5s" is below the 10s minimum',
    'jwt.algorithm: "HS256" is not one of ES256, ES384, RS256, PS256',
    'jwt.keyTtl: "30s" is below the 1m minimum',
    'jwt.audience: unknown key (known keys: ttl, algorithm, keyTtl)',
  ]);
  assert.deepEqual(problems({ trustDomain: 'example.org', jwt: { ttl: 'soon' } }), ['jwt.ttl: "soon" is not a duration (e.g. 30s, 10m, 1h30m)']);
});
