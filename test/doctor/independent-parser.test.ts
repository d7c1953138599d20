/**
 * The doctor checks the minter instead of sharing its code (issue 15): its certificate parsing
 * comes from @peculiar/x509 and @peculiar/asn1-x509, never from src/identity's DER reader, and it
 * reads certificates the minter would never make.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { caExtensions, leafExtensions, OpensslPki, type Issued } from './openssl-pki';
import { doctorOnFiles, findingIds } from './run-doctor';

const DOCTOR_SOURCES = path.join(__dirname, '..', '..', '..', 'src', 'cli', 'doctor');

let pki: OpensslPki;
let intermediate: Issued;
let bundle: string;
before(async () => {
  pki = await OpensslPki.create(await makeTempDir('meshid-doctor-independent-'));
  const root = await pki.root('root');
  intermediate = await pki.issue('intermediate', root, { extensions: caExtensions() });
  bundle = await pki.bundle('bundle', [root]);
});
after(removeTempDirs);

test("no doctor source imports the minter's DER code or its extension tables", async () => {
  const files = (await readdir(DOCTOR_SOURCES)).filter((file) => file.endsWith('.ts'));
  assert.ok(files.length > 5, `doctor sources found in ${DOCTOR_SOURCES}`);
  for (const file of files) {
    const source = await readFile(path.join(DOCTOR_SOURCES, file), 'utf8');
    const imports = [...source.matchAll(/from '([^']+)'/g)].map((match) => match[1] ?? '');
    for (const imported of imports) {
      assert.doesNotMatch(imported, /identity\/(der|der-reader|certificate-parts|x509-extensions|x509-time|pem)$/, `${file} imports ${imported}`);
    }
  }
});

test('a SAN with name forms @peculiar/x509 cannot render (otherName, dirName) is still read', async () => {
  const leaf = await pki.issue('other-names', intermediate, {
    extensions: [...leafExtensions().filter((line) => !line.startsWith('subjectAltName')), 'subjectAltName = URI:spiffe://example.org/web, DNS:web.example, otherName:1.2.3.4;UTF8:extra, dirName:dir_sect', '[ dir_sect ]', 'CN = directory name'],
  });
  const report = await doctorOnFiles({ cert: await pki.bundle('other-names-chain', [leaf, intermediate]), bundle });
  assert.deepEqual(findingIds(report), []);
  assert.equal(report.subject.spiffeId, 'spiffe://example.org/web');
  assert.deepEqual(report.subject.dnsNames, ['web.example']);
});

test('a CERTIFICATE block whose body is not base64 is reported in its place, not dropped', async () => {
  const leaf = await pki.issue('mangled', intermediate);
  const chain = await pki.bundle('mangled-chain', [leaf, intermediate]);
  const [first = '', second = ''] = (await readFile(chain, 'utf8')).split(/(?<=-----END CERTIFICATE-----\n)/);
  await writeFile(chain, `${first}-----BEGIN CERTIFICATE-----\n!!not base64!!\n-----END CERTIFICATE-----\n${second}`);
  const report = await doctorOnFiles({ cert: chain, bundle });
  assert.deepEqual(findingIds(report), ['input.unparseable-certificate']);
  assert.equal(report.findings[0]?.where, 'chain #2');
  assert.equal(report.subject.trust, 'trusted', 'chain #3 (the intermediate) still links the leaf to the bundle');
});
