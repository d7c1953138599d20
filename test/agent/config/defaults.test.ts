import assert from 'node:assert/strict';
import { test } from 'node:test';
import { embeddedDefaults } from '../../../src/agent/config/defaults';

test('embedded defaults: ./.meshid, a self-signed upstream and an identity for the caller', () => {
  const config = embeddedDefaults({ cwd: '/home/dev/project', uid: 1000 });
  assert.deepEqual(config, {
    trustDomain: 'example.org',
    dataDir: '/home/dev/project/.meshid',
    socketPath: '/home/dev/project/.meshid/agent.sock',
    upstream: { type: 'self-signed' },
    svid: { ttlMs: 3_600_000, keyType: 'ec-p256' },
    ca: { ttlMs: 86_400_000, rotationPropagationDelayMs: 30_000 },
    jwt: { ttlMs: 300_000, algorithm: 'ES256', keyTtlMs: 86_400_000 },
    entries: [{ spiffeId: 'spiffe://example.org/uid/1000', selectors: ['unix:uid:1000'], dnsNames: [] }],
    attestors: { unix: { hashBinaries: true, maxHashBytes: 256 * 1024 * 1024 } },
    files: [],
    admin: { enabled: true, host: '127.0.0.1', port: 8088 },
    connections: { maxPerUid: 1024, maxTotal: 16384, prefaceTimeoutMs: 10_000, idleTimeoutMs: 300_000 },
    logLevel: 'info',
  });
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.entries[0]?.selectors));
  assert.equal(embeddedDefaults({ cwd: '/', uid: 0 }).entries[0]?.spiffeId, 'spiffe://example.org/uid/0');
});
