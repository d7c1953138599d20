/**
 * Key file and validity checks on openssl-made certificates. Time is injected (the CLI's --now):
 * each instant is computed from the certificate's own dates, so nothing depends on the wall clock.
 */
import assert from 'node:assert/strict';
import { chmod, copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openssl } from '../support/openssl';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { caExtensions, OpensslPki, opensslDate, rsa, type Issued } from './openssl-pki';
import { doctorOnFiles, findingIds } from './run-doctor';
import { needs } from '../support/tools';

/** The fixtures here are made with the openssl CLI. */
const OPENSSL = needs('openssl');

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

let pki: OpensslPki;
let root: Issued;
let intermediate: Issued;
let bundle: string;
before(async () => {
  if (OPENSSL) return; // every test here is skipped: no fixtures to make
  pki = await OpensslPki.create(await makeTempDir('meshid-doctor-keys-'));
  root = await pki.root('root');
  intermediate = await pki.issue('intermediate', root, { extensions: caExtensions() });
  bundle = await pki.bundle('bundle', [root]);
});
after(removeTempDirs);

async function chainOf(leaf: Issued): Promise<string> {
  return pki.bundle(`${leaf.name}-chain`, [leaf, intermediate]);
}

describe('private key file', { skip: OPENSSL }, () => {
  test('a key file readable by others (0644): key.permissions with the chmod to run', async () => {
    const leaf = await pki.issue('wide-key', intermediate);
    await chmod(leaf.keyPath, 0o644);
    const report = await doctorOnFiles({ cert: await chainOf(leaf), key: leaf.keyPath, bundle });
    assert.deepEqual(findingIds(report), ['key.permissions']);
    assert.equal(report.findings[0]?.fix, `chmod 600 ${leaf.keyPath}`);
    assert.match(report.findings[0]?.message ?? '', /mode 0644/);
    assert.equal(report.ok, false);
  });

  test('0600 and 0400 are fine; 0640 and 0700 are not', async () => {
    const leaf = await pki.issue('modes', intermediate);
    const chain = await chainOf(leaf);
    for (const [mode, expected] of [
      [0o600, []],
      [0o400, []],
      [0o640, ['key.permissions']],
      [0o700, ['key.permissions']],
    ] as const) {
      await chmod(leaf.keyPath, mode);
      assert.deepEqual(findingIds(await doctorOnFiles({ cert: chain, key: leaf.keyPath, bundle })), expected, `mode ${mode.toString(8)}`);
    }
  });

  test("another certificate's key: key.mismatch", async () => {
    const leaf = await pki.issue('mismatch-leaf', intermediate);
    const other = await pki.issue('mismatch-other', intermediate);
    const report = await doctorOnFiles({ cert: await chainOf(leaf), key: other.keyPath, bundle });
    assert.deepEqual(findingIds(report), ['key.mismatch']);
    assert.match(report.findings[0]?.message ?? '', /does not belong to the leaf chain #1 \(CN=mismatch-leaf\)/);
  });

  test('an RSA key against an EC certificate: key.mismatch, not a crash', async () => {
    const leaf = await pki.issue('ec-leaf', intermediate);
    const rsaLeaf = await pki.issue('rsa-leaf-for-key', intermediate, { key: rsa(3072) });
    assert.deepEqual(findingIds(await doctorOnFiles({ cert: await chainOf(leaf), key: rsaLeaf.keyPath, bundle })), ['key.mismatch']);
  });

  test('an encrypted key: key.unreadable, and the passphrase is never needed', async () => {
    const leaf = await pki.issue('encrypted', intermediate);
    const encrypted = path.join(pki.dir, 'encrypted.enc.key');
    const made = await openssl(['pkey', '-in', leaf.keyPath, '-aes256', '-passout', 'pass:secret', '-out', encrypted]);
    assert.ok(made.ok, made.output);
    await chmod(encrypted, 0o600);
    const report = await doctorOnFiles({ cert: await chainOf(leaf), key: encrypted, bundle });
    assert.deepEqual(findingIds(report), ['key.unreadable']);
    assert.match(report.findings[0]?.message ?? '', /is encrypted/);
  });

  test('a certificate given as the key: key.unreadable', async () => {
    const leaf = await pki.issue('cert-as-key', intermediate);
    const wrong = path.join(pki.dir, 'cert-as-key.copy.pem');
    await copyFile(leaf.certPath, wrong);
    await chmod(wrong, 0o600);
    assert.deepEqual(findingIds(await doctorOnFiles({ cert: await chainOf(leaf), key: wrong, bundle })), ['key.unreadable']);
  });
});

describe('RSA key size', { skip: OPENSSL }, () => {
  test('an RSA-2048 leaf: key.rsa-weak, a warning only', async () => {
    const leaf = await pki.issue('rsa2048', intermediate, { key: rsa(2048) });
    const report = await doctorOnFiles({ cert: await chainOf(leaf), key: leaf.keyPath, bundle });
    assert.deepEqual(findingIds(report), ['key.rsa-weak']);
    assert.equal(report.findings[0]?.severity, 'warning');
    assert.equal(report.findings[0]?.where, 'chain #1');
    assert.equal(report.ok, true);
    assert.equal(report.subject.publicKey, 'RSA-2048');
  });

  test('RSA-3072 passes', async () => {
    const leaf = await pki.issue('rsa3072', intermediate, { key: rsa(3072) });
    assert.deepEqual(findingIds(await doctorOnFiles({ cert: await chainOf(leaf), key: leaf.keyPath, bundle })), []);
  });

  test('an RSA-2048 root in the bundle is flagged too', async () => {
    const rsaRoot = await pki.root('rsa-root', { key: rsa(2048) });
    const leaf = await pki.issue('under-rsa-root', rsaRoot);
    const report = await doctorOnFiles({ cert: leaf.certPath, key: leaf.keyPath, bundle: await pki.bundle('rsa-bundle', [rsaRoot]) });
    assert.deepEqual(findingIds(report), ['key.rsa-weak']);
    assert.equal(report.findings[0]?.where, 'bundle #1');
  });
});

describe('validity', { skip: OPENSSL }, () => {
  let leaf: Issued;
  let chain: string;
  let notBefore: number;
  let notAfter: number;
  // CAs valid from 2020 to 2040, so only the leaf's own dates are at issue at the 2030 instants.
  let longIntermediate: Issued;
  let longBundle: string;
  const span = { startDate: '20200101000000Z', endDate: '20400101000000Z' };
  const chainUnderLong = (issued: Issued): Promise<string> => pki.bundle(`${issued.name}-chain`, [issued, longIntermediate]);
  before(async () => {
    const longRoot = await pki.root('long-root', span);
    longIntermediate = await pki.issue('long-intermediate', longRoot, { extensions: caExtensions(), ...span });
    longBundle = await pki.bundle('long-bundle', [longRoot]);
    leaf = await pki.issue('dated', longIntermediate, { startDate: '20300101000000Z', endDate: '20300131000000Z' });
    chain = await chainUnderLong(leaf);
    notBefore = Date.parse('2030-01-01T00:00:00Z');
    notAfter = Date.parse('2030-01-31T00:00:00Z');
  });
  const at = async (time: number): Promise<Awaited<ReturnType<typeof doctorOnFiles>>> => doctorOnFiles({ cert: chain, key: leaf.keyPath, bundle: longBundle }, new Date(time));

  test('expired 1 min ago: validity.expired with the clock-skew hint', async () => {
    const report = await at(notAfter + MINUTE);
    assert.deepEqual(findingIds(report), ['validity.expired']);
    assert.match(report.findings[0]?.message ?? '', /chain #1 \(CN=dated\) expired at 2030-01-31T00:00:00.000Z, 1 min 0 s ago/);
    assert.match(report.findings[0]?.fix ?? '', /clock-skew range.*timedatectl/);
  });

  test('expired 1 h ago: validity.expired without the clock-skew hint', async () => {
    const report = await at(notAfter + HOUR);
    assert.deepEqual(findingIds(report), ['validity.expired']);
    assert.doesNotMatch(report.findings[0]?.fix ?? '', /clock/);
  });

  test('not valid for another 2 min: validity.not-yet-valid with the clock-skew hint', async () => {
    const report = await at(notBefore - 2 * MINUTE);
    assert.deepEqual(findingIds(report), ['validity.not-yet-valid']);
    assert.match(report.findings[0]?.fix ?? '', /clock-skew range: this host's clock is probably behind/);
  });

  test('not valid for another day: validity.not-yet-valid without the skew hint', async () => {
    const report = await at(notBefore - DAY);
    assert.deepEqual(findingIds(report), ['validity.not-yet-valid']);
    assert.doesNotMatch(report.findings[0]?.fix ?? '', /clock-skew range/);
  });

  test('a 30-day certificate: quiet 2 days before expiry, validity.expiring-soon 12 h before', async () => {
    assert.deepEqual(findingIds(await at(notAfter - 2 * DAY)), []);
    const report = await at(notAfter - 12 * HOUR);
    assert.deepEqual(findingIds(report), ['validity.expiring-soon']);
    assert.equal(report.findings[0]?.severity, 'warning');
    assert.match(report.findings[0]?.message ?? '', /in 12 h 0 min: chain #1 \(CN=dated\) expires first/);
    assert.equal(report.ok, true);
  });

  test('a one-hour SVID is not "expiring soon" while fresh, only in its last quarter', async () => {
    const start = Date.parse('2030-02-01T00:00:00Z');
    const short = await pki.issue('one-hour', longIntermediate, { startDate: opensslDate(new Date(start)), endDate: opensslDate(new Date(start + HOUR)) });
    const shortChain = await chainUnderLong(short);
    const judgeAt = async (time: number): Promise<string[]> => findingIds(await doctorOnFiles({ cert: shortChain, key: short.keyPath, bundle: longBundle }, new Date(time)));
    assert.deepEqual(await judgeAt(start + 10 * MINUTE), []);
    assert.deepEqual(await judgeAt(start + 40 * MINUTE), []);
    assert.deepEqual(await judgeAt(start + 50 * MINUTE), ['validity.expiring-soon']);
  });

  test('an expired intermediate is reported on its own label, and a CA fix', async () => {
    const oldCa = await pki.issue('old-ca', root, { extensions: caExtensions(), startDate: '20200101000000Z', endDate: '20200201000000Z' });
    const leafUnderOld = await pki.issue('under-old-ca', oldCa, { startDate: '20200101000000Z', endDate: '20200115000000Z' });
    const report = await doctorOnFiles({ cert: await pki.bundle('old-chain', [leafUnderOld, oldCa]), key: leafUnderOld.keyPath, bundle });
    assert.deepEqual(findingIds(report), ['validity.expired', 'validity.expired']);
    assert.deepEqual(report.findings.map((finding) => finding.where), ['chain #1', 'chain #2']);
    assert.match(report.findings[1]?.fix ?? '', /renew the CA certificate chain #2/);
  });

  test('expired by the real clock (no injected time): validity.expired', async () => {
    const stale = await pki.issue('stale', intermediate, { startDate: '20200101000000Z', endDate: '20200201000000Z' });
    const report = await doctorOnFiles({ cert: await chainOf(stale), key: stale.keyPath, bundle });
    assert.deepEqual(findingIds(report), ['validity.expired']);
  });
});

test('the key file is read, never echoed: no finding carries key material', { skip: OPENSSL }, async () => {
  const leaf = await pki.issue('no-echo', intermediate);
  await chmod(leaf.keyPath, 0o666);
  const other = await pki.issue('no-echo-other', intermediate);
  const keyPem = await readFile(other.keyPath, 'utf8');
  await writeFile(leaf.keyPath, keyPem);
  const report = await doctorOnFiles({ cert: await chainOf(leaf), key: leaf.keyPath, bundle });
  assert.deepEqual(findingIds(report), ['key.mismatch', 'key.permissions']);
  const body = keyPem.split('\n').filter((line) => line && !line.startsWith('-----'));
  const serialized = JSON.stringify(report);
  for (const line of body) assert.ok(!serialized.includes(line), 'no line of the key appears in the report');
  assert.doesNotMatch(serialized, /PRIVATE KEY-----/);
});
