/**
 * The X509-SVID rules one by one: each leaf or intermediate below is made by openssl with exactly
 * one rule broken, and the doctor must report that rule's id and nothing else.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { caExtensions, leafExtensions, OpensslPki, type Issued } from './openssl-pki';
import { doctorOnFiles, findingIds } from './run-doctor';
import { needs } from '../support/tools';

/** The fixtures here are made with the openssl CLI. */
const OPENSSL = needs('openssl');

let pki: OpensslPki;
let root: Issued;
let intermediate: Issued;
let bundle: string;
before(async () => {
  if (OPENSSL) return; // every test here is skipped: no fixtures to make
  pki = await OpensslPki.create(await makeTempDir('meshid-doctor-svid-'));
  root = await pki.root('root');
  intermediate = await pki.issue('intermediate', root, { extensions: caExtensions() });
  bundle = await pki.bundle('bundle', [root]);
});
after(removeTempDirs);

/** leafExtensions() with the lines starting with `drop` removed and `add` appended. */
function leafWith(drop: string[], add: string[] = []): string[] {
  return [...leafExtensions().filter((line) => !drop.some((prefix) => line.startsWith(prefix))), ...add];
}

async function judgeLeaf(name: string, extensions: string[], subject?: string): Promise<Awaited<ReturnType<typeof doctorOnFiles>>> {
  const leaf = await pki.issue(name, intermediate, { extensions, ...(subject !== undefined && { subject }) });
  return doctorOnFiles({ cert: await pki.bundle(`${name}-chain`, [leaf, intermediate]), key: leaf.keyPath, bundle });
}

describe('leaf rules', { skip: OPENSSL }, () => {
  test('a conforming openssl-made SVID chain has no findings at all', async () => {
    const report = await judgeLeaf('clean', leafExtensions());
    assert.deepEqual(report.findings, []);
    assert.equal(report.ok, true);
    assert.equal(report.subject.spiffeId, 'spiffe://example.org/web');
    assert.equal(report.subject.trust, 'trusted');
    assert.deepEqual(report.subject.chain.map((certificate) => certificate.label), ['chain #1', 'chain #2', 'bundle #1']);
  });

  const cases: [string, string[], string[], string?][] = [
    ['two URI SANs (§2)', leafWith(['subjectAltName'], ['subjectAltName = URI:spiffe://example.org/a, URI:spiffe://example.org/b']), ['svid.uri-san-count']],
    ['a DNS SAN but no URI SAN (§2)', leafWith(['subjectAltName'], ['subjectAltName = DNS:web.example.org']), ['svid.uri-san-count']],
    ['no subjectAltName at all', leafWith(['subjectAltName']), ['san.missing']],
    ['an https URI instead of a SPIFFE ID (§2)', leafWith(['subjectAltName'], ['subjectAltName = URI:https://example.org/web']), ['svid.spiffe-id']],
    ['an uppercase trust domain (§2)', leafWith(['subjectAltName'], ['subjectAltName = URI:spiffe://Example.org/web']), ['svid.spiffe-id']],
    ['a wildcard path segment (§2)', leafWith(['subjectAltName'], ['subjectAltName = URI:spiffe://example.org/*']), ['svid.spiffe-id']],
    ['the bare trust domain as a leaf ID (§3.1)', leafWith(['subjectAltName'], ['subjectAltName = URI:spiffe://example.org']), ['svid.leaf-id-path']],
    ['an empty subject with a non-critical SAN (§3.1)', leafExtensions(), ['svid.san-critical'], '/'],
    ['cA=true on the leaf (§4.1)', leafWith(['basicConstraints'], ['basicConstraints = critical, CA:TRUE']), ['svid.leaf-ca']],
    ['no keyUsage (§4.3)', leafWith(['keyUsage']), ['svid.key-usage-missing']],
    ['keyUsage not critical (§4.3)', leafWith(['keyUsage'], ['keyUsage = digitalSignature']), ['svid.key-usage-critical']],
    ['keyUsage without digitalSignature (§4.3)', leafWith(['keyUsage'], ['keyUsage = critical, keyEncipherment']), ['svid.leaf-digital-signature']],
    ['keyCertSign on the leaf (§4.3)', leafWith(['keyUsage'], ['keyUsage = critical, digitalSignature, keyCertSign']), ['svid.leaf-signing-usage']],
    ['cRLSign on the leaf (§4.3)', leafWith(['keyUsage'], ['keyUsage = critical, digitalSignature, cRLSign']), ['svid.leaf-signing-usage']],
    ['extendedKeyUsage with serverAuth only (§4.4)', leafWith(['extendedKeyUsage'], ['extendedKeyUsage = serverAuth']), ['svid.leaf-eku']],
  ];
  for (const [title, extensions, expected, subject] of cases) {
    test(`${title} → ${expected.join(', ')}`, async () => {
      const report = await judgeLeaf(title.replace(/\W+/g, '-'), extensions, subject);
      assert.deepEqual(findingIds(report), expected, JSON.stringify(report.findings, null, 2));
      assert.equal(report.ok, false);
      for (const finding of report.findings) {
        assert.equal(finding.where, 'leaf');
        assert.match(finding.rule ?? '', /^X509-SVID §/);
        assert.ok(finding.fix.length > 0);
      }
    });
  }

  test('an empty subject with a critical SAN conforms (§3.1)', async () => {
    const report = await judgeLeaf('empty-subject-critical-san', leafWith(['subjectAltName'], ['subjectAltName = critical, URI:spiffe://example.org/web']), '/');
    assert.deepEqual(report.findings, []);
  });

  test('no extendedKeyUsage is a warning only (§4.4 says SHOULD): exit status stays ok', async () => {
    const report = await judgeLeaf('no-eku', leafWith(['extendedKeyUsage']));
    assert.deepEqual(findingIds(report), ['svid.leaf-eku-missing']);
    assert.equal(report.findings[0]?.severity, 'warning');
    assert.equal(report.ok, true);
  });
});

describe('signing certificate rules', { skip: OPENSSL }, () => {
  async function judgeIntermediate(name: string, extensions: string[]): Promise<Awaited<ReturnType<typeof doctorOnFiles>>> {
    const signing = await pki.issue(`${name}-ca`, root, { extensions });
    const leaf = await pki.issue(`${name}-leaf`, signing);
    return doctorOnFiles({ cert: await pki.bundle(`${name}-chain`, [leaf, signing]), key: leaf.keyPath, bundle });
  }
  const withCa = (drop: string, add: string): string[] => [...caExtensions().filter((line) => !line.startsWith(drop)), add];

  const cases: [string, string[], string[], boolean][] = [
    ['cA=false on the issuer (§4.1)', withCa('basicConstraints', 'basicConstraints = critical, CA:FALSE'), ['svid.signing-ca'], false],
    ['an issuer without keyCertSign (§4.3)', withCa('keyUsage', 'keyUsage = critical, digitalSignature'), ['svid.signing-key-cert-sign'], false],
    ['an issuer without keyUsage (§4.3)', caExtensions().filter((line) => !line.startsWith('keyUsage')), ['svid.signing-key-cert-sign'], false],
    ['an issuer keyUsage not critical (§4.3)', withCa('keyUsage', 'keyUsage = keyCertSign, cRLSign'), ['svid.key-usage-critical'], false],
    ['an issuer SPIFFE ID with a path (§3.2)', withCa('subjectAltName', 'subjectAltName = URI:spiffe://example.org/ca'), ['svid.signing-id'], false],
    ['an issuer of another trust domain (§3.2 SHOULD)', withCa('subjectAltName', 'subjectAltName = URI:spiffe://other.org'), ['svid.signing-trust-domain'], true],
  ];
  for (const [title, extensions, expected, ok] of cases) {
    test(`${title} → ${expected.join(', ')}`, async () => {
      const report = await judgeIntermediate(title.replace(/\W+/g, '-'), extensions);
      assert.deepEqual(findingIds(report), expected, JSON.stringify(report.findings, null, 2));
      assert.equal(report.ok, ok);
      assert.equal(report.findings[0]?.where, 'chain #2');
      assert.equal(report.subject.trust, 'trusted', 'the path still verifies: the rule, not trust, is at fault');
    });
  }
});
