import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfigFile, parseConfig } from '../../src/agent/config/load';
import type { Environment } from '../../src/agent/config/schema';
import { makeTempDir } from '../support/temp-dir';

const BASE = '/etc/meshid';

function problems(raw: unknown, env: Environment = {}): string[] {
  try {
    parseConfig(raw, { baseDir: BASE, env });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

const k8s = (attestor: Record<string, unknown>, env: Environment = {}) => parseConfig({ trustDomain: 'example.org', attestors: { k8s: attestor } }, { baseDir: BASE, env }).attestors.k8s;

test('attestors.k8s.kubeletUrl must be https: an http URL is refused when the config loads, saying why', () => {
  assert.deepEqual(problems({ trustDomain: 'example.org', attestors: { k8s: { kubeletUrl: 'http://127.0.0.1:10255' } } }), [
    'attestors.k8s.kubeletUrl: "http://127.0.0.1:10255" is not https: the kubelet is sent the service account token, so only its TLS port is used (e.g. https://127.0.0.1:10250)',
  ]);
  assert.match(problems({ trustDomain: 'example.org', attestors: { k8s: { kubeletUrl: 'HTTP://node:10255' } } }).join('\n'), /^attestors\.k8s\.kubeletUrl: "HTTP:\/\/node:10255" is not https: /);
  assert.deepEqual(problems({ trustDomain: 'example.org', attestors: { k8s: { kubeletUrl: 'https://127.0.0.1:10250/pods' } } }), ['attestors.k8s.kubeletUrl: "https://127.0.0.1:10250/pods" is not an https://host:port URL']);
  assert.equal(k8s({ kubeletUrl: 'https://node-a.internal:10250' })?.kubeletUrl, 'https://node-a.internal:10250');
  assert.equal(k8s({})?.kubeletUrl, 'https://127.0.0.1:10250');
});

test('MESHID_NODE_NAME fills attestors.k8s.nodeName when the file leaves it unset, and only then', () => {
  const env = { MESHID_NODE_NAME: 'node-from-env' };
  assert.equal(k8s({}, env)?.nodeName, 'node-from-env');
  assert.equal(k8s({ nodeName: 'node-from-file' }, env)?.nodeName, 'node-from-file');
  // Neither an unset nor an empty variable makes up a node name; the attestor then asks the kubelet.
  const withoutNodeName = { kubeletUrl: 'https://127.0.0.1:10250', tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token', skipKubeletVerification: false };
  assert.deepEqual(k8s({}, {}), withoutNodeName);
  assert.deepEqual(k8s({}, { MESHID_NODE_NAME: '' }), withoutNodeName);
  // No k8s attestor, nothing to fill: the variable does not enable one.
  assert.equal(parseConfig({ trustDomain: 'example.org' }, { baseDir: BASE, env }).attestors.k8s, undefined);
  // The rest of the k8s mapping is still checked.
  assert.deepEqual(problems({ trustDomain: 'example.org', attestors: { k8s: { nodename: 'x' } } }, env), [
    'attestors.k8s.nodename: unknown key (known keys: kubeletUrl, tokenFile, caFile, skipKubeletVerification, nodeName)',
  ]);
});

test('a config file reads the environment override from the environment it is given', async () => {
  const dir = await makeTempDir('meshid-config-env-');
  const file = path.join(dir, 'meshid.yaml');
  await writeFile(file, 'trustDomain: example.org\nattestors:\n  k8s: { tokenFile: token }\n');
  const config = loadConfigFile(file, { MESHID_NODE_NAME: 'node-b' });
  assert.deepEqual(config.attestors.k8s, { kubeletUrl: 'https://127.0.0.1:10250', tokenFile: path.join(dir, 'token'), skipKubeletVerification: false, nodeName: 'node-b' });
  assert.equal(loadConfigFile(file, {}).attestors.k8s?.nodeName, undefined);
});

test('each default is set once: an absent mapping, an empty one and a partial one get the same defaults', () => {
  const absent = parseConfig({ trustDomain: 'example.org' }, { baseDir: BASE });
  const empty = parseConfig({ trustDomain: 'example.org', upstream: { type: 'self-signed' }, svid: {}, ca: {}, jwt: {}, attestors: { unix: {} }, connections: {}, admin: {}, entries: [], files: [] }, { baseDir: BASE });
  assert.deepEqual(empty, absent);
  const partial = parseConfig({ trustDomain: 'example.org', svid: { keyType: 'rsa-2048' }, ca: { rotationPropagationDelay: '1m' }, connections: { maxTotal: 10 }, admin: { enabled: false } }, { baseDir: BASE });
  assert.deepEqual(partial.svid, { ...absent.svid, keyType: 'rsa-2048' });
  assert.deepEqual(partial.ca, { ...absent.ca, rotationPropagationDelayMs: 60_000 });
  assert.deepEqual(partial.connections, { ...absent.connections, maxTotal: 10 });
  assert.deepEqual(partial.admin, { ...absent.admin, enabled: false });
  // Optional mappings get their fields' defaults when present and empty.
  assert.deepEqual(parseConfig({ trustDomain: 'example.org', attestors: { docker: {} } }, { baseDir: BASE }).attestors.docker, { socketPath: '/var/run/docker.sock', envAllowlist: [] });
  const [target] = parseConfig({ trustDomain: 'example.org', files: [{ spiffeId: 'spiffe://example.org/a', certFile: 'a.pem', keyFile: 'a.key' }] }, { baseDir: BASE }).files;
  assert.deepEqual(target, { spiffeId: 'spiffe://example.org/a', dnsNames: [], certFile: '/etc/meshid/a.pem', keyFile: '/etc/meshid/a.key', keyMode: 0o600 });
});

test('every problem is listed at once: each cross-field rule alongside schema problems, in one pass', () => {
  assert.deepEqual(
    problems({
      trustDomain: 'example.org',
      socketPath: `run/${'s'.repeat(120)}.sock`,
      svid: { ttl: '12h', keyTyp: 'ec-p256' }, // the unknown key does not hide svid.ttl from the ca.ttl rule
      ca: { ttl: '24h' },
      entries: [
        { spiffeId: 'spiffe://other.org/a', selectors: ['unix:uid:x'] },
        { spiffeIdTemplate: 'spiffe://other.org/{{k8s.ns}}', selectors: ['k8s:ns:*'] },
        { spiffeId: 'spiffe://example.org/b', selectors: ['unix:uid:1'] },
        { spiffeId: 'spiffe://example.org/b', selectors: ['unix:uid:2'], hint: 'other' },
      ],
      files: [
        { spiffeId: 'spiffe://other.org/web', certFile: 'web.pem', keyFile: 'web.key', pkcs12File: 'web.p12' },
        { spiffeId: 'spiffe://example.org/api', certFile: 'web.pem', keyFile: 'api.key' },
      ],
      logLevel: 'loud',
    }),
    [
      'svid.keyTyp: unknown key (known keys: ttl, keyType)',
      'entries[0].selectors[0]: "unix:uid:x": uid must be a number',
      'logLevel: "loud" is not one of trace, debug, info, warn, error',
      'ca.ttl: "24h" must be more than twice svid.ttl ("12h"): the node intermediate must outlive the SVIDs it signs',
      `socketPath: "/etc/meshid/run/${'s'.repeat(120)}.sock" is 141 bytes; unix socket paths are limited to 107`,
      'entries[0].spiffeId: "spiffe://other.org/a" is not in trust domain "example.org"',
      'entries[1].spiffeIdTemplate: "spiffe://other.org/{{k8s.ns}}" must start with spiffe://{{trustDomain}}/ or spiffe://example.org/',
      'entries[3]: grants "spiffe://example.org/b" like entries[2] but with different dnsNames or hint; entries for one ID must agree on them',
      'files[0].spiffeId: "spiffe://other.org/web" is not in trust domain "example.org"',
      'files[0]: pkcs12File needs pkcs12PasswordFile (Java keystores require a password)',
      'files[1].certFile: "/etc/meshid/web.pem" is also files[0].certFile; each file has one writer',
    ],
  );
});

test('a cross-field rule reads only fields valid on their own: a broken field is reported once, by its own rule', () => {
  // svid.ttl is not a duration, so there is no ca.ttl comparison; the trust domain is invalid, so no entry is checked against it.
  assert.deepEqual(problems({ trustDomain: 'Example.ORG', svid: { ttl: 'soon' }, ca: { ttl: '1h' }, entries: [{ spiffeId: 'spiffe://other.org/a', selectors: ['unix:uid:1'] }] }).map((problem) => problem.split(':')[0]), ['trustDomain', 'svid.ttl']);
  // A mapping where a list belongs, or null where a mapping belongs, is one problem, not a crash.
  assert.deepEqual(problems({ trustDomain: 'example.org', svid: null, entries: { spiffeId: 'spiffe://other.org/a' }, files: 'none' }), [
    'svid: must be a mapping, got null',
    'entries: must be a list, got a mapping',
    'files: must be a list, got "none"',
  ]);
  // An entry broken elsewhere is left out of the rule comparing whole entries.
  assert.deepEqual(problems({ trustDomain: 'example.org', entries: [{ spiffeId: 'spiffe://example.org/b', selectors: ['unix:uid:1'] }, { spiffeId: 'spiffe://example.org/b', selectors: ['unix:uid:2'], dnsNames: ['bad_name'] }] }), [
    'entries[1].dnsNames[0]: "bad_name" is not a valid DNS name',
  ]);
});

test('a wrong number (a fraction where a whole number belongs) does not cut the list short: the cross-field rules still run', () => {
  const config = { trustDomain: 'example.org', svid: { ttl: '1h' }, ca: { ttl: '90m' } };
  assert.deepEqual(problems({ ...config, connections: { maxTotal: 1.5 } }), ['connections.maxTotal: must be a whole number', 'ca.ttl: "90m" must be more than twice svid.ttl ("1h"): the node intermediate must outlive the SVIDs it signs']);
  assert.deepEqual(problems({ ...config, attestors: { unix: { maxHashBytes: 0.5 } } }).length, 2);
  assert.deepEqual(problems({ ...config, upstream: { type: 'pkcs11', module: 'p11.so', slot: -1.5, keyLabel: 'ca', pinFile: 'pin', certFile: 'ca.pem' } }), ['upstream.slot: must be a whole number', 'ca.ttl: "90m" must be more than twice svid.ttl ("1h"): the node intermediate must outlive the SVIDs it signs']);
});

