/**
 * Chain order and trust, on a real openssl hierarchy: root → int1 → int2 → leaf. Each case
 * presents the same certificates arranged (or swapped) the way operators get them wrong.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { caExtensions, OpensslPki, type Issued } from './openssl-pki';
import { doctorOnFiles, findingIds } from './run-doctor';
import { needs } from '../support/tools';

/** The fixtures here are made with the openssl CLI. */
const OPENSSL = needs('openssl');

let pki: OpensslPki;
let root: Issued;
let int1: Issued;
let int2: Issued;
let leaf: Issued;
let bundle: string;
before(async () => {
  if (OPENSSL) return; // every test here is skipped: no fixtures to make
  pki = await OpensslPki.create(await makeTempDir('meshid-doctor-chain-'));
  root = await pki.root('root');
  int1 = await pki.issue('int1', root, { extensions: caExtensions() });
  int2 = await pki.issue('int2', int1, { extensions: caExtensions() });
  leaf = await pki.issue('leaf', int2);
  bundle = await pki.bundle('bundle', [root]);
});
after(removeTempDirs);

/** `bundleFile` null: no --bundle at all. */
async function judge(name: string, chain: Issued[], bundleFile: string | null = bundle): Promise<Awaited<ReturnType<typeof doctorOnFiles>>> {
  return doctorOnFiles({ cert: await pki.bundle(name, chain), key: leaf.keyPath, ...(bundleFile !== null && { bundle: bundleFile }) });
}

test('leaf, int2, int1 with the root in the bundle: trusted, no findings, path in issuing order', { skip: OPENSSL }, async () => {
  const report = await judge('clean', [leaf, int2, int1]);
  assert.deepEqual(report.findings, []);
  assert.equal(report.subject.trust, 'trusted');
  assert.deepEqual(
    report.subject.chain.map(({ label, subject }) => `${label} ${subject}`),
    ['chain #1 CN=leaf', 'chain #2 CN=int2', 'chain #3 CN=int1', 'bundle #1 CN=root'],
  );
});

test('the root sent along in the chain file is not a finding', { skip: OPENSSL }, async () => {
  const report = await judge('with-root', [leaf, int2, int1, root]);
  assert.deepEqual(report.findings, []);
});

test('a classic openssl root without keyUsage sent along is not judged as a signing SVID', { skip: OPENSSL }, async () => {
  const classic = await pki.root('classic-root', { extensions: ['basicConstraints = critical, CA:TRUE', 'subjectKeyIdentifier = hash'] });
  const leafUnderClassic = await pki.issue('leaf-under-classic', classic);
  const report = await doctorOnFiles({ cert: await pki.bundle('classic-chain', [leafUnderClassic, classic]), key: leafUnderClassic.keyPath });
  assert.deepEqual(report.findings, []);
  assert.deepEqual(report.subject.chain.map(({ label }) => label), ['chain #1', 'chain #2']);
});

test('without --bundle trust is "not checked" and not claimed either way', { skip: OPENSSL }, async () => {
  const report = await judge('no-bundle', [leaf, int2, int1], null);
  assert.deepEqual(report.findings, []);
  assert.equal(report.subject.trust, 'not checked');
});

test('an intermediate first: chain.leaf-not-first (error), naming the real leaf', { skip: OPENSSL }, async () => {
  const report = await judge('leaf-second', [int2, leaf, int1]);
  assert.deepEqual(findingIds(report), ['chain.leaf-not-first']);
  assert.equal(report.ok, false);
  assert.equal(report.findings[0]?.where, 'chain #2');
  assert.match(report.findings[0]?.message ?? '', /the leaf certificate is chain #2 \(CN=leaf\), but the file starts with chain #1 \(CN=int2\)/);
  assert.equal(report.subject.spiffeId, 'spiffe://example.org/web', 'the rest is judged on the real leaf');
  assert.equal(report.subject.trust, 'trusted');
});

test('intermediates out of issuing order: chain.order (warning), with the order to use', { skip: OPENSSL }, async () => {
  const report = await judge('swapped', [leaf, int1, int2]);
  assert.deepEqual(findingIds(report), ['chain.order']);
  assert.equal(report.ok, true, 'a warning: TLS 1.3 peers and OpenSSL sort the chain themselves');
  assert.match(report.findings[0]?.fix ?? '', /chain #1 \(CN=leaf\), then chain #3 \(CN=int2\), then chain #2 \(CN=int1\)/);
});

test('a certificate off the path: chain.unused-certificate', { skip: OPENSSL }, async () => {
  const stranger = await pki.root('stranger');
  const report = await judge('stranger-in-chain', [leaf, int2, int1, stranger]);
  assert.deepEqual(findingIds(report), ['chain.unused-certificate']);
  assert.equal(report.findings[0]?.where, 'chain #4');
});

test('a missing intermediate: chain.untrusted naming the missing issuer', { skip: OPENSSL }, async () => {
  const report = await judge('missing-int2', [leaf, int1]);
  assert.deepEqual(findingIds(report), ['chain.untrusted', 'chain.unused-certificate']);
  const untrusted = report.findings.find((finding) => finding.id === 'chain.untrusted');
  assert.match(untrusted?.message ?? '', /its issuer CN=int2 is missing/);
  assert.match(untrusted?.fix ?? '', /append the intermediate CN=int2 to the certificate file after chain #1/);
  assert.equal(report.subject.trust, 'untrusted');
});

test('the bundle of another CA: chain.untrusted', { skip: OPENSSL }, async () => {
  const otherRoot = await pki.root('other-root');
  const report = await judge('other-bundle', [leaf, int2, int1], await pki.bundle('other-bundle-roots', [otherRoot]));
  assert.deepEqual(findingIds(report), ['chain.untrusted']);
  assert.match(report.findings[0]?.message ?? '', /its issuer CN=root is missing/);
});

test('a root re-created under the same name: the signature is checked, not just the name', { skip: OPENSSL }, async () => {
  const recreated = await pki.issue('root-recreated', undefined, { subject: '/CN=root', extensions: caExtensions(undefined) });
  const report = await judge('recreated-root', [leaf, int2, int1], await pki.bundle('recreated-bundle', [recreated]));
  assert.deepEqual(findingIds(report), ['chain.untrusted']);
  assert.match(report.findings[0]?.message ?? '', /bundle #1 \(CN=root\) has the issuer's name CN=root, but its key did not sign chain #3 \(CN=int1\): the CA was probably re-created/);
});

test('an intermediate re-issued with a new key under the same name: chain.untrusted at the leaf', { skip: OPENSSL }, async () => {
  const impostor = await pki.issue('int2-rekeyed', int1, { subject: '/CN=int2', extensions: caExtensions() });
  const report = await judge('rekeyed-int2', [leaf, impostor, int1]);
  assert.deepEqual(findingIds(report), ['chain.untrusted', 'chain.unused-certificate', 'chain.unused-certificate']);
  assert.match(report.findings.find((finding) => finding.id === 'chain.untrusted')?.message ?? '', /chain #2 \(CN=int2\) has the issuer's name CN=int2, but its key did not sign chain #1 \(CN=leaf\)/);
});

test('a self-signed leaf: chain.untrusted says so', { skip: OPENSSL }, async () => {
  const selfSigned = await pki.issue('self-signed-leaf', undefined);
  const report = await doctorOnFiles({ cert: selfSigned.certPath, key: selfSigned.keyPath, bundle });
  assert.deepEqual(findingIds(report), ['chain.untrusted']);
  assert.match(report.findings[0]?.message ?? '', /the chain ends at the self-signed chain #1 \(CN=self-signed-leaf\), which is not in the bundle/);
});

test('a file without certificates and a block that is not one are findings, not crashes', { skip: OPENSSL }, async () => {
  const empty = await doctorOnFiles({ cert: leaf.keyPath });
  assert.deepEqual(findingIds(empty), ['chain.empty']);
  assert.match(empty.findings[0]?.message ?? '', /contains no PEM CERTIFICATE block \(it holds a private key\)/);
  assert.equal(empty.subject.subject, null);

  const garbled = await pki.bundle('garbled-source', [leaf]);
  const pem = await readFile(garbled, 'utf8');
  await writeFile(garbled, `${pem}-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n`);
  const report = await doctorOnFiles({ cert: garbled, bundle });
  assert.deepEqual(findingIds(report), ['chain.untrusted', 'input.unparseable-certificate']);
});
