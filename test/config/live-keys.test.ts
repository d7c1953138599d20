import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configChanges } from '../../src/agent/config/live-keys';
import { parseConfig } from '../../src/agent/config/load';

const parse = (raw: Record<string, unknown>, env = {}) => parseConfig({ trustDomain: 'example.org', ...raw }, { baseDir: '/etc/meshid', env });

const ENTRY = { spiffeId: 'spiffe://example.org/web', selectors: ['unix:uid:1000'] };
const TARGET = { spiffeId: 'spiffe://example.org/web', certFile: 'web.pem', keyFile: 'web.key' };

test('live reload: entries, files and logLevel apply at once; any other change needs a restart', () => {
  const current = parse({ entries: [ENTRY], files: [TARGET] });
  assert.deepEqual(configChanges(current, parse({ entries: [ENTRY], files: [TARGET] })), { live: [], restartRequired: [] });
  assert.deepEqual(configChanges(current, parse({ entries: [ENTRY, { ...ENTRY, selectors: ['unix:uid:1001'] }], files: [{ ...TARGET, keyMode: '0640' }], logLevel: 'debug' })), {
    live: ['entries', 'files', 'logLevel'],
    restartRequired: [],
  });
  assert.deepEqual(configChanges(current, parse({ entries: [ENTRY], files: [TARGET], svid: { ttl: '30m' }, socketPath: 'other.sock', admin: { listen: '127.0.0.1:9999' } })), {
    live: [],
    restartRequired: ['admin', 'socketPath', 'svid'],
  });
});

test('live reload: a default written out is no change; an environment override that changes is a restart', () => {
  assert.deepEqual(configChanges(parse({}), parse({ svid: { ttl: '1h' }, admin: { listen: '127.0.0.1:8088' }, logLevel: 'info' })), { live: [], restartRequired: [] });
  const k8s = { attestors: { k8s: {} } };
  assert.deepEqual(configChanges(parse(k8s, { MESHID_NODE_NAME: 'a' }), parse(k8s, { MESHID_NODE_NAME: 'b' })), { live: [], restartRequired: ['attestors'] });
});
