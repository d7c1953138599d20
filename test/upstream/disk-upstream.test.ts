import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseConfig } from '../../src/agent/config/load';
import { isMeshidError } from '../../src/common/errors';
import { loadConfiguredUpstream } from '../../src/agent/configured-upstream';
import type { UpstreamAuthority } from '../../src/upstream/upstream-authority';
import { openssl } from '../support/openssl';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { assertSignsVerifiableIntermediate } from './chain-check';
import { needs } from '../support/tools';

/** The fixtures here are made with the openssl CLI. */
const OPENSSL = needs('openssl');

const PASSPHRASE = 'correct horse battery staple';
const YEAR_MS = 365 * 86_400_000;
let dir: string;

async function sh(args: string[]): Promise<void> {
  const result = await openssl(args, dir);
  assert.ok(result.ok, `openssl ${args.join(' ')}: ${result.output}`);
}

const der = async (file: string): Promise<Buffer> => Buffer.from(new X509Certificate(await readFile(path.join(dir, file))).raw);

/** Makes an EC P-256 CA certificate for `name` signed by rootCA (the RSA-4096 root), with `extensions`. */
async function issueFromRoot(name: string, extensions: string): Promise<void> {
  await writeFile(path.join(dir, `${name}.ext`), extensions);
  await sh(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  await sh(['x509', '-req', '-in', `${name}.csr`, '-CA', 'rootCA.pem', '-CAkey', 'rootCA.key', '-passin', 'file:pass.txt', '-CAcreateserial', '-days', '365', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
}

before(async () => {
  if (OPENSSL) return; // every test here is skipped: no fixtures to make
  dir = await makeTempDir('meshid-disk-upstream-');
  await writeFile(path.join(dir, 'pass.txt'), `${PASSPHRASE}\n`);
  await writeFile(path.join(dir, 'wrong-pass.txt'), 'not the passphrase\n');
  // The classic operator workflow for a private root CA, exactly as the guides give it.
  await sh(['genrsa', '-aes256', '-passout', 'file:pass.txt', '-out', 'rootCA.key', '4096']);
  await sh(['req', '-x509', '-new', '-key', 'rootCA.key', '-passin', 'file:pass.txt', '-sha256', '-days', '3650', '-subj', '/CN=test-root', '-out', 'rootCA.pem']);

  const caExtensions = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n';
  await issueFromRoot('intermediate', caExtensions);
  await issueFromRoot('pathlen0', caExtensions.replace('CA:TRUE', 'CA:TRUE,pathlen:0'));
  // An unrelated root, for "wrong bundle" and "wrong key" cases.
  await sh(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'other-root.key', '-out', 'other-root.pem', '-days', '3650', '-subj', '/CN=other-root']);
  // Not CAs.
  await sh(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.pem', '-days', '30', '-subj', '/CN=not a ca', '-addext', 'basicConstraints=critical,CA:FALSE']);
  await sh(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'nosign.key', '-out', 'nosign.pem', '-days', '30', '-subj', '/CN=no keyCertSign', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,digitalSignature']);
  // The same unrelated root key as SEC1 PEM, plain and with legacy PEM encryption.
  await sh(['ec', '-in', 'other-root.key', '-out', 'other-root.sec1.key']);
  await sh(['ec', '-in', 'other-root.key', '-aes256', '-passout', 'file:pass.txt', '-out', 'other-root.sec1-encrypted.key']);
  await writeFile(path.join(dir, 'fullchain.pem'), (await readFile(path.join(dir, 'intermediate.pem'), 'utf8')) + (await readFile(path.join(dir, 'rootCA.pem'), 'utf8')));
  await writeFile(path.join(dir, 'not-pem.txt'), 'this is not a certificate\n');
});
after(removeTempDirs);

function load(upstream: Record<string, string>, now = new Date()): Promise<UpstreamAuthority> {
  const config = parseConfig({ trustDomain: 'example.org', dataDir: 'data', socketPath: 'agent.sock', upstream: { type: 'disk', ...upstream } }, { baseDir: dir });
  return loadConfiguredUpstream(config, now);
}

/** Loading must fail with MeshidError('UPSTREAM', 'upstream(disk): …') matching `pattern`, without secrets. */
async function assertFails(upstream: Record<string, string>, pattern: RegExp, now?: Date): Promise<void> {
  await assert.rejects(load(upstream, now), (error: unknown) => {
    assert.ok(isMeshidError(error, 'UPSTREAM'), String(error));
    assert.match(error.message, /^upstream\(disk\): /);
    assert.match(error.message, pattern);
    assert.doesNotMatch(error.message, /PRIVATE KEY|correct horse|not the passphrase|BEGIN/, 'no key material or passphrase in errors');
    return true;
  });
}

test('the openssl genrsa -aes256 / req -x509 root loads as the disk upstream with keyPassphraseFile', { skip: OPENSSL }, async () => {
  const upstream = await load({ certFile: 'rootCA.pem', keyFile: 'rootCA.key', keyPassphraseFile: 'pass.txt' });
  assert.equal(upstream.name, 'disk');
  assert.deepEqual(upstream.signingCertificateDer, await der('rootCA.pem'));
  assert.deepEqual(upstream.rootsDer, [await der('rootCA.pem')]);
  assert.deepEqual(upstream.upstreamIntermediatesDer, []);
  await assertSignsVerifiableIntermediate(upstream, dir);
});

test('a passphrase is required for an encrypted key, and a wrong one is a clear error', { skip: OPENSSL }, async () => {
  await assertFails({ certFile: 'rootCA.pem', keyFile: 'rootCA.key', keyPassphraseFile: 'wrong-pass.txt' }, /cannot decrypt keyFile .*rootCA\.key with the passphrase in .*wrong-pass\.txt: wrong passphrase\?/);
  await assertFails({ certFile: 'rootCA.pem', keyFile: 'rootCA.key' }, /keyFile .*rootCA\.key is encrypted; set keyPassphraseFile/);
  await writeFile(path.join(dir, 'empty-pass.txt'), '\n');
  await assertFails({ certFile: 'rootCA.pem', keyFile: 'rootCA.key', keyPassphraseFile: 'empty-pass.txt' }, /keyPassphraseFile .*empty-pass\.txt is empty/);
});

test('SEC1 keys, plain and with legacy PEM encryption, load too', { skip: OPENSSL }, async () => {
  for (const keyFile of ['other-root.sec1.key', 'other-root.sec1-encrypted.key']) {
    const upstream = await load({ certFile: 'other-root.pem', keyFile, keyPassphraseFile: 'pass.txt' });
    await assertSignsVerifiableIntermediate(upstream, dir);
  }
  await assertFails({ certFile: 'other-root.pem', keyFile: 'other-root.sec1-encrypted.key', keyPassphraseFile: 'wrong-pass.txt' }, /wrong passphrase/);
});

test('a missing file is an error naming it', { skip: OPENSSL }, async () => {
  await assertFails({ certFile: 'nowhere.pem', keyFile: 'rootCA.key' }, new RegExp(`cannot read certFile ${dir}/nowhere\\.pem: ENOENT`));
  await assertFails({ certFile: 'rootCA.pem', keyFile: 'nowhere.key' }, new RegExp(`cannot read keyFile ${dir}/nowhere\\.key: ENOENT`));
  await assertFails({ certFile: 'rootCA.pem', keyFile: 'rootCA.key', keyPassphraseFile: 'nowhere.txt' }, /cannot read keyPassphraseFile .*nowhere\.txt: ENOENT/);
  await assertFails({ certFile: 'intermediate.pem', keyFile: 'intermediate.key', bundleFile: 'nowhere-bundle.pem' }, /cannot read bundleFile .*nowhere-bundle\.pem: ENOENT/);
});

test('files that are not PEM are rejected, naming them', { skip: OPENSSL }, async () => {
  await assertFails({ certFile: 'not-pem.txt', keyFile: 'rootCA.key' }, /certFile .*not-pem\.txt contains no PEM CERTIFICATE block/);
  await assertFails({ certFile: 'rootCA.pem', keyFile: 'not-pem.txt' }, /keyFile .*not-pem\.txt is not a PEM private key/);
  await assertFails({ certFile: 'intermediate.pem', keyFile: 'intermediate.key', bundleFile: 'not-pem.txt' }, /bundleFile .*not-pem\.txt contains no PEM CERTIFICATE block/);
});

test('a key that does not belong to the certificate is rejected', { skip: OPENSSL }, async () => {
  await assertFails({ certFile: 'rootCA.pem', keyFile: 'other-root.key' }, /keyFile .*other-root\.key does not match the certificate in certFile .*rootCA\.pem/);
  await assertFails({ certFile: 'other-root.pem', keyFile: 'intermediate.key' }, /does not match/);
});

test('a certificate that is not a CA, or may not sign certificates, is rejected', { skip: OPENSSL }, async () => {
  await assertFails({ certFile: 'leaf.pem', keyFile: 'leaf.key' }, /certFile .*leaf\.pem is not a CA certificate \(basicConstraints cA is not true\)/);
  await assertFails({ certFile: 'nosign.pem', keyFile: 'nosign.key' }, /certFile .*nosign\.pem may not sign certificates \(keyUsage lacks keyCertSign\)/);
});

test('an expired or not yet valid certificate is rejected', { skip: OPENSSL }, async () => {
  const upstream = { certFile: 'rootCA.pem', keyFile: 'rootCA.key', keyPassphraseFile: 'pass.txt' };
  await assertFails(upstream, /certFile .*rootCA\.pem expired on /, new Date(Date.now() + 11 * YEAR_MS));
  await assertFails(upstream, /certFile .*rootCA\.pem is not valid before /, new Date(Date.now() - YEAR_MS));
});

test('an intermediate upstream works with bundleFile = its root, and serves the intermediate in chains', { skip: OPENSSL }, async () => {
  const upstream = await load({ certFile: 'intermediate.pem', keyFile: 'intermediate.key', bundleFile: 'rootCA.pem' });
  assert.deepEqual(upstream.signingCertificateDer, await der('intermediate.pem'));
  assert.deepEqual(upstream.upstreamIntermediatesDer, [await der('intermediate.pem')]);
  assert.deepEqual(upstream.rootsDer, [await der('rootCA.pem')]);
  await assertSignsVerifiableIntermediate(upstream, dir);

  // A "full chain" certFile (intermediate then root) gives the same result: the root is not served.
  const fromFullChain = await load({ certFile: 'fullchain.pem', keyFile: 'intermediate.key', bundleFile: 'rootCA.pem' });
  assert.deepEqual(fromFullChain.upstreamIntermediatesDer, [await der('intermediate.pem')]);
  assert.deepEqual(fromFullChain.rootsDer, [await der('rootCA.pem')]);
});

test('an intermediate whose bundle is a different root, or that has no bundle, is rejected', { skip: OPENSSL }, async () => {
  await assertFails({ certFile: 'intermediate.pem', keyFile: 'intermediate.key', bundleFile: 'other-root.pem' }, /the chain of certFile .*intermediate\.pem does not reach any root in bundleFile .*other-root\.pem/);
  await assertFails({ certFile: 'fullchain.pem', keyFile: 'intermediate.key', bundleFile: 'other-root.pem' }, /ends at root CN=test-root, which is not in bundleFile .*other-root\.pem/);
  await assertFails({ certFile: 'intermediate.pem', keyFile: 'intermediate.key' }, /certFile .*intermediate\.pem is not self-signed \(an intermediate\), so bundleFile must hold the root it chains to/);
});

test('an intermediate with pathlen:0 is rejected: the node intermediate could not go under it', { skip: OPENSSL }, async () => {
  await assertFails({ certFile: 'pathlen0.pem', keyFile: 'pathlen0.key', bundleFile: 'rootCA.pem' }, /certFile .*pathlen0\.pem has basicConstraints pathlen:0, leaving no room for the node intermediate/);
});

test('a self-signed certFile with a bundleFile trusts both', { skip: OPENSSL }, async () => {
  const upstream = await load({ certFile: 'rootCA.pem', keyFile: 'rootCA.key', keyPassphraseFile: 'pass.txt', bundleFile: 'other-root.pem' });
  assert.deepEqual(upstream.rootsDer, [await der('rootCA.pem'), await der('other-root.pem')]);
  assert.deepEqual(upstream.upstreamIntermediatesDer, []);
});
