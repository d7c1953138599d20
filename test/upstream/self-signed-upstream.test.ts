import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { parseConfig } from '../../src/agent/config/load';
import { isMeshidError } from '../../src/common/errors';
import { loadConfiguredUpstream } from '../../src/agent/configured-upstream';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { assertSignsVerifiableIntermediate } from './chain-check';
import { needs } from '../support/tools';

after(removeTempDirs);

const YEAR_MS = 365 * 86_400_000;
const mode = async (file: string): Promise<number> => (await stat(file)).mode & 0o777;

function configFor(dir: string, overrides: Record<string, unknown> = {}) {
  return parseConfig({ trustDomain: 'example.org', dataDir: 'data/meshid', socketPath: 'run/agent.sock', ...overrides }, { baseDir: dir });
}

async function assertFails(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isMeshidError(error, 'UPSTREAM'), String(error));
    assert.match(error.message, /^upstream\(self-signed\): /);
    assert.match(error.message, pattern);
    assert.doesNotMatch(error.message, /PRIVATE KEY/);
    return true;
  });
}

test('the root is created once (key 0600 in a 0700 dataDir) and reused on later starts', { skip: needs('openssl') }, async () => {
  const dir = await makeTempDir('meshid-self-signed-');
  const config = configFor(dir);
  const first = await loadConfiguredUpstream(config, new Date());
  assert.equal(first.name, 'self-signed');
  assert.deepEqual(first.rootsDer, [first.signingCertificateDer]);
  assert.deepEqual(first.upstreamIntermediatesDer, []);

  const dataDir = path.join(dir, 'data', 'meshid');
  assert.equal(await mode(dataDir), 0o700);
  assert.equal(await mode(path.join(dataDir, 'upstream-ca.key')), 0o600);
  assert.equal(await mode(path.join(dataDir, 'upstream-ca.pem')), 0o644);
  assert.deepEqual((await readdir(dataDir)).sort(), ['upstream-ca.key', 'upstream-ca.leaf-ttl.json', 'upstream-ca.pem'], 'no temp or staging files left behind');

  const root = new X509Certificate(await readFile(path.join(dataDir, 'upstream-ca.pem')));
  assert.deepEqual(Buffer.from(root.raw), first.signingCertificateDer);
  assert.ok(root.ca);
  assert.equal(root.subjectAltName, 'URI:spiffe://example.org');
  assert.ok(root.verify(root.publicKey), 'self-signed');
  const lifetime = Date.parse(root.validTo) - Date.parse(root.validFrom);
  assert.ok(Math.abs(lifetime - 10 * YEAR_MS) < 5 * 60_000, `10-year validity, got ${lifetime} ms`);
  assert.equal(new X509Certificate(root.raw).publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');

  const second = await loadConfiguredUpstream(config, new Date());
  assert.deepEqual(second.signingCertificateDer, first.signingCertificateDer, 'same certificate bytes on the second start');
  assert.deepEqual(second.signer.publicKeySpkiDer, first.signer.publicKeySpkiDer);
  await assertSignsVerifiableIntermediate(second, dir);
});

test('when the socket lives inside dataDir (the embedded defaults), dataDir is 0711 so other users can reach it', async () => {
  const dir = await makeTempDir('meshid-self-signed-');
  await loadConfiguredUpstream(configFor(dir, { dataDir: '.meshid', socketPath: '.meshid/agent.sock' }), new Date());
  assert.equal(await mode(path.join(dir, '.meshid')), 0o711);
  assert.equal(await mode(path.join(dir, '.meshid', 'upstream-ca.key')), 0o600);
});

test('a stored root of another trust domain, or an expired one, is an error rather than being replaced', async () => {
  const dir = await makeTempDir('meshid-self-signed-');
  const created = await loadConfiguredUpstream(configFor(dir), new Date());
  await assertFails(loadConfiguredUpstream(configFor(dir, { trustDomain: 'example.com' }), new Date()), /upstream-ca\.pem is the root of another trust domain \(spiffe:\/\/example\.org\), not example\.com; move .* away/);
  // Nor is a trust domain that merely starts with the stored one accepted.
  await assertFails(loadConfiguredUpstream(configFor(dir, { trustDomain: 'example.org.evil' }), new Date()), /another trust domain/);
  await assertFails(loadConfiguredUpstream(configFor(dir), new Date(Date.now() + 11 * YEAR_MS)), /upstream-ca\.pem expired on .*; move .* away to create a new root/);
  // Nothing was replaced.
  assert.deepEqual((await loadConfiguredUpstream(configFor(dir), new Date())).signingCertificateDer, created.signingCertificateDer);
});

test('half a stored pair is an error, not a reason to make a new root', async () => {
  const dir = await makeTempDir('meshid-self-signed-');
  await loadConfiguredUpstream(configFor(dir), new Date());
  await unlink(path.join(dir, 'data', 'meshid', 'upstream-ca.key'));
  await assertFails(loadConfiguredUpstream(configFor(dir), new Date()), /only one of .*upstream-ca\.pem and .*upstream-ca\.key exists/);
});
