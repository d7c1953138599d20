import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/agent/config/config-error';
import { writeFile } from 'node:fs/promises';
import { loadConfigFile, loadEntriesFile, parseConfig } from '../../src/agent/config/load';
import { makeTempDir } from '../support/temp-dir';
import { isMeshidError } from '../../src/common/errors';

const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'config');
const fixture = (name: string): string => path.join(FIXTURES, name);

/** Runs `action`, which must throw a ConfigError, and returns it. */
function configError(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.ok(isMeshidError(error, 'INVALID_CONFIG'));
    return error;
  }
  assert.fail('expected a ConfigError');
}

function assertProblems(error: ConfigError, expected: RegExp[]): void {
  for (const pattern of expected) {
    assert.ok(error.problems.some((problem) => pattern.test(problem)), `no problem matches ${pattern}; got:\n${error.message}`);
  }
  // The message lists every problem, one per line.
  assert.equal(error.message.split('\n').length, error.problems.length);
  for (const problem of error.problems) assert.ok(error.message.includes(problem));
}

function assertDeepFrozen(value: unknown, where = 'config'): void {
  if (value === null || typeof value !== 'object') return;
  assert.ok(Object.isFrozen(value), `${where} is not frozen`);
  for (const [key, child] of Object.entries(value)) assertDeepFrozen(child, `${where}.${key}`);
}

test('a valid file with every key loads into the expected frozen object', () => {
  const config = loadConfigFile(fixture('valid-full.yaml'), {});
  assert.deepEqual(config, {
    trustDomain: 'prod.example.com',
    dataDir: path.join(FIXTURES, 'state'),
    socketPath: '/run/meshid/workload.sock',
    upstream: {
      type: 'disk',
      certFile: path.join(FIXTURES, 'ca', 'intermediate.pem'),
      keyFile: path.join(FIXTURES, 'ca', 'intermediate.key'),
      keyPassphraseFile: path.join(FIXTURES, 'ca', 'pass.txt'),
      bundleFile: '/etc/ssl/meshid-roots.pem',
    },
    svid: { ttlMs: 30 * 60_000, keyType: 'ec-p384' },
    ca: { ttlMs: 12 * 3_600_000, rotationPropagationDelayMs: 45_000 },
    jwt: { ttlMs: 2 * 60_000, algorithm: 'PS256', keyTtlMs: 6 * 3_600_000 },
    entries: [
      { spiffeId: 'spiffe://prod.example.com/billing/api', selectors: ['unix:uid:1000', 'unix:group:billing'], dnsNames: ['billing.internal', '*.billing.internal'], hint: 'internal' },
      { spiffeId: 'spiffe://prod.example.com/ops', selectors: ['unix:user:ops'], dnsNames: [] },
      { spiffeIdTemplate: 'spiffe://{{trustDomain}}/ns/{{k8s.ns}}/sa/{{k8s.sa}}', selectors: ['k8s:ns:*', 'k8s:sa:*'], dnsNames: [] },
    ],
    entriesFile: path.join(FIXTURES, 'entries.d', 'entries.yaml'),
    attestors: {
      unix: { hashBinaries: false, maxHashBytes: 1_048_576 },
      k8s: { kubeletUrl: 'https://127.0.0.1:10250', tokenFile: '/var/run/secrets/token', caFile: path.join(FIXTURES, 'kubelet-ca.pem'), skipKubeletVerification: false, nodeName: 'node-a' },
      docker: { socketPath: '/run/docker.sock', envAllowlist: ['APP_ENV'] },
    },
    files: [
      {
        spiffeId: 'spiffe://prod.example.com/nginx',
        dnsNames: ['localhost'],
        certFile: '/etc/meshid/nginx/chain.pem',
        keyFile: '/etc/meshid/nginx/key.pem',
        bundleFile: '/etc/meshid/nginx/bundle.pem',
        keyMode: 0o640,
        owner: { uid: 101, gid: 101 },
        pkcs12File: path.join(FIXTURES, 'app.p12'),
        pkcs12PasswordFile: path.join(FIXTURES, 'app.p12.pass'),
        afterWrite: 'nginx -s reload',
      },
    ],
    admin: { enabled: true, host: '::1', port: 9901 },
    connections: { maxPerUid: 64, maxTotal: 2048, prefaceTimeoutMs: 5_000, idleTimeoutMs: 600_000 },
    logLevel: 'debug',
  });
  assertDeepFrozen(config);
  assert.throws(() => (config.entries as unknown as unknown[]).push({}), TypeError);
});

test('a minimal config gets every default', () => {
  const config = parseConfig({ trustDomain: 'example.org' }, { baseDir: '/etc/meshid' });
  assert.deepEqual(config, {
    trustDomain: 'example.org',
    dataDir: '/var/lib/meshid',
    socketPath: '/run/meshid/agent.sock',
    upstream: { type: 'self-signed' },
    svid: { ttlMs: 3_600_000, keyType: 'ec-p256' },
    ca: { ttlMs: 86_400_000, rotationPropagationDelayMs: 30_000 },
    jwt: { ttlMs: 5 * 60_000, algorithm: 'ES256', keyTtlMs: 24 * 3_600_000 },
    entries: [],
    attestors: { unix: { hashBinaries: true, maxHashBytes: 256 * 1024 * 1024 } },
    files: [],
    admin: { enabled: true, host: '127.0.0.1', port: 8088 },
    connections: { maxPerUid: 1024, maxTotal: 16384, prefaceTimeoutMs: 10_000, idleTimeoutMs: 300_000 },
    logLevel: 'info',
  });
  assertDeepFrozen(config);
});

test('a file with many different problems reports every one of them at once', () => {
  const error = configError(() => loadConfigFile(fixture('invalid-many.yaml'), {}));
  assertProblems(error, [
    /^trustDomain: .*"Prod\.Example\.COM".*lowercase/,
    /^colour: unknown key/,
    /^upstream\.certFile: is required when upstream\.type is "disk"/,
    /^svid\.ttl: "5s" is below the 10s minimum$/,
    /^svid\.keyType: "dsa-1024" is not one of ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096$/,
    /^ca\.ttl: "forever" is not a duration/,
    /^entries\[0\]\.spiffeId: .*http:\/\/prod\.example\.com\/x/,
    /^entries\[0\]\.selectors\[0\]: "unix:uid" is not of the form <type>:<key>:<value>/,
    /^entries\[1\]\.selectors\[0\]: unknown selector type "k9s"/,
    /^entries\[1\]\.dnsName: unknown key/,
    /^entries\[2\]\.spiffeId: .*needs a path/,
    /^entries\[2\]\.selectors: needs at least one selector/,
    /^logLevel: "loud" is not one of trace, debug, info, warn, error$/,
  ]);
  assert.equal(error.problems.length, 13, error.message);
});

test('cross-field rules are checked too, and alongside schema problems', () => {
  const error = configError(() => loadConfigFile(fixture('cross-field.yaml'), {}));
  assertProblems(error, [/^ca\.ttl: "24h" must be more than twice svid\.ttl \("12h"\): the node intermediate must outlive the SVIDs it signs$/, /^entries\[0\]\.spiffeId: "spiffe:\/\/other\.org\/web" is not in trust domain "example\.org"$/]);

  // Schema problems elsewhere, even in the same entry, do not hide them.
  const mixed = configError(() =>
    parseConfig({ trustDomain: 'example.org', logLevel: 'loud', svid: { ttl: '12h' }, ca: { ttl: '24h' }, entries: [{ spiffeId: 'spiffe://other.org/web', selectors: ['unix:uid:x'] }] }, { baseDir: '/' }),
  );
  assertProblems(mixed, [/^logLevel:/, /^ca\.ttl: .*twice/, /^entries\[0\]\.spiffeId: .*not in trust domain/, /^entries\[0\]\.selectors\[0\]: .*must be a number/]);
  assert.equal(mixed.problems.length, 4);
});

test('ca.ttl must exceed twice svid.ttl: equal is not enough', () => {
  const base = { trustDomain: 'example.org', svid: { ttl: '1h' } };
  assert.match(configError(() => parseConfig({ ...base, ca: { ttl: '2h' } }, { baseDir: '/' })).message, /ca\.ttl.*outlive/);
  assert.equal(parseConfig({ ...base, ca: { ttl: '2h1s' } }, { baseDir: '/' }).ca.ttlMs, 7_201_000);
  // Against the default svid.ttl (1h) when svid is not set.
  assert.match(configError(() => parseConfig({ trustDomain: 'example.org', ca: { ttl: '90m' } }, { baseDir: '/' })).message, /ca\.ttl: "90m" must be more than twice svid\.ttl \("1h"\)/);
});

test('unknown keys are rejected at the top level and in every nested mapping', () => {
  const error = configError(() =>
    parseConfig(
      {
        trustDomain: 'example.org',
        socketpath: '/tmp/x.sock',
        svid: { tll: '5m' },
        ca: { ttl: '24h', keyType: 'ec-p256' },
        upstream: { type: 'disk', certFile: 'a.pem', keyFile: 'a.key', passphraseFile: 'p' },
        entries: [{ spiffeId: 'spiffe://example.org/a', selectors: ['unix:uid:1'], selector: 'unix:uid:2' }],
      },
      { baseDir: '/' },
    ),
  );
  assert.deepEqual(
    error.problems.map((problem) => problem.replace(/ \(known keys: .*\)$/, '')),
    ['upstream.passphraseFile: unknown key', 'svid.tll: unknown key', 'ca.keyType: unknown key', 'entries[0].selector: unknown key', 'socketpath: unknown key'],
  );
  // The message helps fix the typo.
  assert.ok(error.problems.includes('svid.tll: unknown key (known keys: ttl, keyType)'));
  // A key valid for one upstream type is unknown for another.
  assert.match(configError(() => parseConfig({ trustDomain: 'example.org', upstream: { type: 'self-signed', certFile: 'x' } }, { baseDir: '/' })).message, /upstream\.certFile: unknown key/);
});

test('the disk upstream requires certFile and keyFile; upstream.type must be known', () => {
  const missing = configError(() => parseConfig({ trustDomain: 'example.org', upstream: { type: 'disk' } }, { baseDir: '/' }));
  assert.deepEqual(missing.problems, ['upstream.certFile: is required when upstream.type is "disk"', 'upstream.keyFile: is required when upstream.type is "disk"']);
  assert.deepEqual(configError(() => parseConfig({ trustDomain: 'example.org', upstream: { type: 'hsm' } }, { baseDir: '/' })).problems, ['upstream.type: "hsm" is not one of self-signed, disk, pkcs11, spire']);
  assert.deepEqual(configError(() => parseConfig({ trustDomain: 'example.org', upstream: {} }, { baseDir: '/' })).problems, ['upstream.type: is required (one of self-signed, disk, pkcs11, spire)']);
});

test('wrong types are named with the value received', () => {
  const error = configError(() => parseConfig({ trustDomain: 7, dataDir: ['a'], svid: { ttl: 3600 }, entries: { spiffeId: 'x' } }, { baseDir: '/' }));
  assert.deepEqual(error.problems, [
    'trustDomain: must be a string, got number 7',
    'dataDir: must be a string, got a list',
    'svid.ttl: must be a duration such as "30s", "10m" or "1h30m", got number 3600',
    'entries: must be a list, got a mapping',
  ]);
  assert.deepEqual(configError(() => parseConfig('trustDomain=example.org', { baseDir: '/' })).problems, ['(top level): must be a mapping, got "trustDomain=example.org"']);
  assert.deepEqual(configError(() => parseConfig(null, { baseDir: '/' })).problems, ['trustDomain: is required']);
});

test('selectors, SPIFFE IDs and DNS names are checked one by one', () => {
  const error = configError(() =>
    parseConfig(
      {
        trustDomain: 'example.org',
        entries: [
          { spiffeId: 'spiffe://example.org/a/', selectors: ['unix:uid:abc', 'unix:pid:5', 'unix::1', 'uid:1000'], dnsNames: ['ok.example.org', 'under_score.example', 'ünicode.example'] },
          { spiffeId: 'spiffe://example.org/b', selectors: ['unix:user:www-data', 'unix:supplementary_gid:27'], dnsNames: ['*.b.example.org'] },
        ],
      },
      { baseDir: '/' },
    ),
  );
  assert.deepEqual(error.problems, [
    'entries[0].spiffeId: invalid SPIFFE ID "spiffe://example.org/a/": path must not end with "/"',
    'entries[0].selectors[0]: "unix:uid:abc": uid must be a number',
    'entries[0].selectors[1]: unknown unix selector key "pid" in "unix:pid:5" (known: uid, gid, user, group, supplementary_gid, path, sha256)',
    'entries[0].selectors[2]: "unix::1" is not of the form <type>:<key>:<value> (e.g. unix:uid:1000)',
    'entries[0].selectors[3]: "uid:1000" is not of the form <type>:<key>:<value> (e.g. unix:uid:1000)',
    'entries[0].dnsNames[1]: "under_score.example" is not a valid DNS name',
    'entries[0].dnsNames[2]: "ünicode.example" is not a valid DNS name',
  ]);
});

test('entries may share an ID only if they agree on what goes into its SVID', () => {
  const entry = (uid: number, hint?: string) => ({ spiffeId: 'spiffe://example.org/web', selectors: [`unix:uid:${uid}`], ...(hint ? { hint } : {}) });
  assert.equal(parseConfig({ trustDomain: 'example.org', entries: [entry(1), entry(2)] }, { baseDir: '/' }).entries.length, 2);
  assert.deepEqual(configError(() => parseConfig({ trustDomain: 'example.org', entries: [entry(1), entry(2, 'other')] }, { baseDir: '/' })).problems, [
    'entries[1]: grants "spiffe://example.org/web" like entries[0] but with different dnsNames or hint; entries for one ID must agree on them',
  ]);
});

test('paths are resolved against the base directory; an over-long socket path is caught', () => {
  const config = parseConfig({ trustDomain: 'example.org', dataDir: '../data', socketPath: 'run/agent.sock' }, { baseDir: '/etc/meshid' });
  assert.equal(config.dataDir, '/etc/data');
  assert.equal(config.socketPath, '/etc/meshid/run/agent.sock');
  const error = configError(() => parseConfig({ trustDomain: 'example.org', socketPath: `${'d'.repeat(100)}/agent.sock` }, { baseDir: '/srv' }));
  assert.match(error.problems[0] ?? '', /^socketPath: ".*" is 116 bytes; unix socket paths are limited to 107$/);
});

test('an unreadable file, a YAML syntax error and a repeated key are ConfigErrors naming the file', () => {
  const missing = fixture('no-such-file.yaml');
  assert.deepEqual(configError(() => loadConfigFile(missing, {})).problems, [`cannot read ${missing}: ENOENT: no such file or directory`]);
  assert.match(configError(() => loadConfigFile(FIXTURES, {})).message, /cannot read .*: EISDIR/);
  const syntax = configError(() => loadConfigFile(fixture('yaml-syntax-error.yaml'), {}));
  assert.match(syntax.message, /yaml-syntax-error\.yaml: YAML: .*at line 3, column 8$/m);
  assert.match(configError(() => loadConfigFile(fixture('duplicate-key.yaml'), {})).message, /duplicate-key\.yaml: YAML: .*unique/i);
});

test('templates, wildcards, files targets and the admin address are checked, every problem at once', () => {
  const error = configError(() =>
    parseConfig(
      {
        trustDomain: 'example.org',
        entries: [
          { spiffeIdTemplate: 'spiffe://{{trustDomain}}/ns/{{k8s.namespace}}', selectors: ['k8s:ns:*'] },
          { spiffeIdTemplate: 'spiffe://other.org/{{k8s.ns}}', selectors: ['k8s:ns:*'] },
          { spiffeId: 'spiffe://example.org/a', spiffeIdTemplate: 'spiffe://{{trustDomain}}/a', selectors: ['unix:uid:1'] },
          { selectors: ['k8s:pod-label:app', 'docker:label:team:*'] },
        ],
        files: [
          { spiffeId: 'spiffe://other.org/nginx', certFile: 'a.pem', keyFile: 'a.pem', keyMode: '999', owner: 'nginx', pkcs12File: 'x.p12' },
          { spiffeId: 'spiffe://example.org/java', certFile: 'j.pem', keyFile: 'j.pem', pkcs12File: 'j.p12' },
        ],
        admin: { listen: '0.0.0.0' },
      },
      { baseDir: '/etc/meshid' },
    ),
  );
  assert.deepEqual(error.problems, [
    'entries[0].spiffeIdTemplate: placeholder {{k8s.namespace}} in "spiffe://{{trustDomain}}/ns/{{k8s.namespace}}" names no selector an attestor produces',
    'entries[2]: needs exactly one of spiffeId or spiffeIdTemplate',
    'entries[3].selectors[0]: "k8s:pod-label:app": k8s:pod-label takes <name>:<value>',
    'entries[3]: needs exactly one of spiffeId or spiffeIdTemplate',
    'files[0].keyMode: "999" is not an octal file mode such as "0600"',
    'files[0].owner: "nginx" is not "<uid>:<gid>" (numbers)',
    'admin.listen: "0.0.0.0" is not host:port (e.g. 127.0.0.1:8088 or [::1]:8088)',
    'entries[1].spiffeIdTemplate: "spiffe://other.org/{{k8s.ns}}" must start with spiffe://{{trustDomain}}/ or spiffe://example.org/',
    'files[0].spiffeId: "spiffe://other.org/nginx" is not in trust domain "example.org"',
    'files[1]: pkcs12File needs pkcs12PasswordFile (Java keystores require a password)',
    'files[1].keyFile: "/etc/meshid/j.pem" is also files[1].certFile; each file has one writer',
  ]);
});

test('an entries file is validated with the same rules, problems prefixed with its name', async () => {
  const dir = await makeTempDir('meshid-entries-');
  const file = path.join(dir, 'entries.yaml');
  await writeFile(file, '- spiffeId: spiffe://example.org/web\n  selectors: [unix:uid:1000]\n- spiffeId: spiffe://other.org/x\n  selectors: [unix:uid:abc]\n');
  assert.deepEqual(configError(() => loadEntriesFile(file, 'example.org')).problems, [
    `${file}: [1].selectors[0]: "unix:uid:abc": uid must be a number`,
    `${file}: [1].spiffeId: "spiffe://other.org/x" is not in trust domain "example.org"`,
  ]);
  await writeFile(file, '- spiffeId: spiffe://example.org/web\n  selectors: [unix:uid:1000]\n');
  assert.deepEqual(loadEntriesFile(file, 'example.org'), [{ spiffeId: 'spiffe://example.org/web', selectors: ['unix:uid:1000'], dnsNames: [] }]);
});

test('connection limits: every wrong value is listed at once', () => {
  const error = configError(() => parseConfig({ trustDomain: 'example.org', connections: { maxPerUid: 0, maxTotal: 1.5, prefaceTimeout: 'soon', idleTimeout: '0s', maxStreams: 3 } }, { baseDir: '/' }));
  assertProblems(error, [/connections\.maxPerUid.*at least 1/, /connections\.maxTotal.*whole number/, /connections\.prefaceTimeout.*not a duration/, /connections\.idleTimeout.*longer than zero/, /connections.*known keys: maxPerUid/]);
});
