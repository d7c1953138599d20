import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AgentProcesses, meshid } from '../support/meshid-cli';
import { openssl } from '../support/openssl';
import { keyMatchesCertificate, pemBlocks, uriSan } from '../support/pem';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { needs } from '../support/tools';

/** The operator-style root is made with the openssl CLI. */
const OPENSSL = needs('openssl');

const uid = process.getuid?.() ?? 0;
const agents = new AgentProcesses();
const PASSPHRASE = 'correct horse battery staple';

let dir: string;
before(async () => {
  dir = await makeTempDir('meshid-cli-');
  // The classic operator workflow for a private CA, exactly as countless guides document it.
  await writeFile(path.join(dir, 'pass.txt'), `${PASSPHRASE}\n`);
  if (OPENSSL) return; // the tests that use the root are skipped
  const key = await openssl(['genrsa', '-aes256', '-passout', 'file:pass.txt', '-out', 'rootCA.key', '4096'], dir);
  assert.ok(key.ok, key.output);
  const cert = await openssl(['req', '-x509', '-new', '-key', 'rootCA.key', '-passin', 'file:pass.txt', '-sha256', '-days', '3650', '-subj', '/CN=Example Root CA', '-out', 'rootCA.pem'], dir);
  assert.ok(cert.ok, cert.output);
});
after(async () => {
  await agents.stopAll();
  await removeTempDirs();
});

const socketOf = (name: string): string => path.join(dir, name, 'agent.sock');

function diskConfig(name: string, upstream: string): string {
  return `trustDomain: example.org
dataDir: ${dir}/${name}-data
socketPath: ${socketOf(name)}
upstream:
${upstream}
entries:
  - spiffeId: spiffe://example.org/ops
    selectors: ["unix:uid:${uid}"]
`;
}

/** Each problem is reported on a line of its own that starts with the key path at fault. */
function assertProblemLines(stderr: string, keyPaths: string[]): void {
  for (const keyPath of keyPaths) {
    const escaped = keyPath.replace(/[.[\]]/g, '\\$&');
    assert.match(stderr, new RegExp(`^\\s*-?\\s*${escaped}(?![\\w.[]).*:`, 'm'), `a problem line for ${keyPath} in:\n${stderr}`);
  }
}

test('invalid config: exit 2, every problem listed, nothing started', async () => {
  await writeFile(
    path.join(dir, 'bad.yaml'),
    `trustDomain: Example.ORG
socketPath: ${socketOf('bad')}
dataDir: ${dir}/bad-data
colour: blue
svid:
  ttl: 5s
  keyType: dsa-1024
ca:
  ttl: forever
entries:
  - spiffeId: http://example.org/x
    selectors: ["unix:uid"]
`,
  );
  const result = await meshid(['run', '--config', 'bad.yaml'], { cwd: dir });
  assert.equal(result.code, 2, result.stderr);
  assertProblemLines(result.stderr, ['colour', 'trustDomain', 'svid.ttl', 'svid.keyType', 'ca.ttl', 'entries[0].spiffeId', 'entries[0].selectors[0]']);
  await assert.rejects(stat(socketOf('bad')), { code: 'ENOENT' }, 'no socket was created');
  await assert.rejects(stat(path.join(dir, 'bad-data')), { code: 'ENOENT' }, 'no data directory was created');
});

test('problems relating two fields are listed with the others', async () => {
  await writeFile(
    path.join(dir, 'bad2.yaml'),
    `trustDomain: example.org
socketPath: ${socketOf('bad2')}
svid: { ttl: 5s }
ca: { ttl: forever }
entries:
  - { spiffeId: "http://example.org/x", selectors: ["unix:uid"] }
  - { spiffeId: "spiffe://other.org/y", selectors: ["unix:uid:1"] }
`,
  );
  const result = await meshid(['run', '--config', 'bad2.yaml'], { cwd: dir });
  assert.equal(result.code, 2, result.stderr);
  assertProblemLines(result.stderr, ['svid.ttl', 'ca.ttl', 'entries[0].spiffeId', 'entries[0].selectors[0]', 'entries[1].spiffeId']);
  assert.match(result.stderr, /other\.org/, 'the foreign trust domain is named');
});

test('an entry with two independent problems gets both reported', async () => {
  // entries[0].spiffeId is well-formed but in another trust domain; its selector is malformed.
  // These are separate problems; reporting only one makes the operator fix-and-rerun twice.
  await writeFile(
    path.join(dir, 'bad3.yaml'),
    `trustDomain: example.org
socketPath: ${socketOf('bad3')}
entries:
  - { spiffeId: "spiffe://other.org/y", selectors: ["k9s:ns:default"] }
`,
  );
  const result = await meshid(['run', '--config', 'bad3.yaml'], { cwd: dir });
  assert.equal(result.code, 2, result.stderr);
  assertProblemLines(result.stderr, ['entries[0].selectors[0]', 'entries[0].spiffeId']);
});

test('an openssl-made encrypted RSA-4096 root works as the disk upstream, end to end', { skip: OPENSSL }, async () => {
  await writeFile(path.join(dir, 'good.yaml'), diskConfig('good', '  type: disk\n  certFile: rootCA.pem\n  keyFile: rootCA.key\n  keyPassphraseFile: pass.txt'));
  await agents.start('good.yaml', socketOf('good'), dir);
  assert.equal((await stat(socketOf('good'))).mode & 0o777, 0o777, 'socket mode 0777');

  const out = path.join(dir, 'out');
  const fetched = await meshid(['api', 'fetch', 'x509', '--socket', socketOf('good'), '--write', out], { cwd: dir });
  assert.equal(fetched.code, 0, fetched.stderr);

  const keyPem = await readFile(path.join(out, 'svid.0.key'), 'utf8');
  assert.equal((await stat(path.join(out, 'svid.0.key'))).mode & 0o777, 0o600, 'key file mode 0600');
  assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----\n/, 'PKCS#8 PEM');
  const [leaf, ...intermediates] = pemBlocks(await readFile(path.join(out, 'svid.0.pem'), 'utf8'));
  assert.ok(leaf);
  assert.equal(intermediates.length, 1, 'chain: leaf first, then the node intermediate');
  assert.equal(uriSan(leaf), 'spiffe://example.org/ops');
  assert.ok(keyMatchesCertificate(keyPem, leaf), 'svid.0.key is the leaf key');
  const root = new X509Certificate(await readFile(path.join(dir, 'rootCA.pem')));
  assert.ok(new X509Certificate(intermediates[0] ?? '').checkIssued(root), 'the intermediate was signed by the operator root');
  assert.deepEqual(pemBlocks(await readFile(path.join(out, 'bundle.0.pem'), 'utf8')).map((pem) => new X509Certificate(pem).fingerprint256), [root.fingerprint256], 'the bundle is the operator root');

  await writeFile(path.join(out, 'leaf.pem'), leaf);
  await writeFile(path.join(out, 'intermediates.pem'), intermediates.join(''));
  const verify = await openssl(['verify', '-CAfile', 'bundle.0.pem', '-untrusted', 'intermediates.pem', 'leaf.pem'], out);
  assert.ok(verify.ok, verify.output);
  assert.match(verify.output, /leaf\.pem: OK/);

  // Socket discovery as SPIFFE libraries do it.
  const summary = await meshid(['api', 'fetch', 'x509'], { cwd: dir, env: { ...process.env, SPIFFE_ENDPOINT_SOCKET: `unix://${socketOf('good')}` } });
  assert.equal(summary.code, 0, summary.stderr);
  assert.match(summary.stdout, /spiffe:\/\/example\.org\/ops/);
});

test('a wrong passphrase, a missing passphrase, a missing key file and a non-CA certificate each stop start-up with exit 2', { skip: OPENSSL }, async () => {
  await writeFile(path.join(dir, 'wrong.txt'), 'not it\n');
  const leafCert = await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.pem', '-days', '30', '-subj', '/CN=not a ca', '-addext', 'basicConstraints=critical,CA:FALSE'], dir);
  assert.ok(leafCert.ok, leafCert.output);
  const cases: [string, string, RegExp[]][] = [
    ['wrongpass', '  type: disk\n  certFile: rootCA.pem\n  keyFile: rootCA.key\n  keyPassphraseFile: wrong.txt', [/passphrase/i, /rootCA\.key/]],
    ['nopass', '  type: disk\n  certFile: rootCA.pem\n  keyFile: rootCA.key', [/encrypted/i, /keyPassphraseFile/]],
    ['missing', '  type: disk\n  certFile: rootCA.pem\n  keyFile: nowhere.key', [/nowhere\.key/, /no such file|ENOENT|not found|missing|cannot read/i]],
    ['notca', '  type: disk\n  certFile: leaf.pem\n  keyFile: leaf.key', [/not a CA|CA:?\s*false|basicConstraints/i, /leaf\.pem/]],
  ];
  for (const [name, upstream, messages] of cases) {
    await writeFile(path.join(dir, `${name}.yaml`), diskConfig(name, upstream));
    const result = await meshid(['run', '--config', `${name}.yaml`], { cwd: dir });
    assert.equal(result.code, 2, `${name}: exit ${result.code}\n${result.stderr}`);
    assert.match(result.stderr, /upstream\(disk\)/, `${name}: the error names the upstream at fault`);
    for (const message of messages) assert.match(result.stderr, message, `${name}: ${result.stderr}`);
    assert.doesNotMatch(result.stderr, /PRIVATE KEY|correct horse|\n\s+at /, `${name}: no key material, passphrase or stack trace`);
    await assert.rejects(stat(socketOf(name)), { code: 'ENOENT' }, `${name}: no socket was created`);
  }
});
