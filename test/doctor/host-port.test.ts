import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHostPort } from '../../src/cli/doctor/doctor-command';

test('--connect accepts host:port, IPv4 and bracketed IPv6, and nothing looser', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:8443'), { host: '127.0.0.1', port: 8443 });
  assert.deepEqual(parseHostPort('web.example.org:443'), { host: 'web.example.org', port: 443 });
  assert.deepEqual(parseHostPort('[::1]:8443'), { host: '::1', port: 8443 });
  for (const bad of ['localhost', ':443', 'host:', 'host:0', 'host:65536', '::1:443', 'host:44a', 'https://host:443']) {
    assert.equal(parseHostPort(bad), undefined, bad);
  }
});
