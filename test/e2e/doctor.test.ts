/**
 * `meshid doctor` as a black box: SVIDs fetched from a real running meshid with
 * `meshid api fetch x509 --write`, broken the ways operators break them, judged by the compiled
 * CLI; `--connect` against real node:tls servers on loopback.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmod, copyFile, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { meshid, type CliResult } from '../support/meshid-cli';
import { pemBlocks, uriSan } from '../support/pem';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { OpensslPki, type Issued } from '../doctor/openssl-pki';
import { needs } from '../support/tools';

const uid = process.getuid?.() ?? 0;
const SERVER_ID = 'spiffe://example.org/doctor';
const CLIENT_ID = 'spiffe://example.org/doctor-client';

interface JsonReport {
  ok: boolean;
  findings: { id: string; severity: string; message: string; fix: string; where?: string }[];
  subject: { source: string; spiffeId: string | null; trust: string; notBefore: string | null; notAfter: string | null; chain: { label: string }[] };
}

const agents: Harness[] = [];
let dir: string;
let out: string;
/** svid.0 = SERVER_ID, svid.1 = CLIENT_ID, both for this process's uid. */
const file = (name: string): string => path.join(out, name);

async function fetchSvids(harness: Harness, into: string): Promise<void> {
  const fetched = await meshid(['api', 'fetch', 'x509', '--socket', harness.socketPath, '--write', into], { cwd: dir });
  assert.equal(fetched.code, 0, fetched.stderr);
}

async function doctor(args: string[]): Promise<CliResult> {
  return meshid(['doctor', ...args], { cwd: dir });
}

/** Runs doctor with --output json; checks the exit code agrees with the report. */
async function doctorJson(args: string[]): Promise<{ result: CliResult; report: JsonReport }> {
  const result = await doctor([...args, '--output', 'json']);
  assert.notEqual(result.code, 2, result.stderr);
  const report = JSON.parse(result.stdout) as JsonReport;
  assert.equal(result.code, report.ok ? 0 : 1, 'exit 0 exactly when ok');
  assert.equal(report.ok, !report.findings.some((finding) => finding.severity === 'error'));
  return { result, report };
}

const ids = (report: JsonReport): string[] => report.findings.map((finding) => finding.id).sort();
const filesOf = (index: number, bundle = file(`bundle.${index}.pem`)): string[] => ['--cert', file(`svid.${index}.pem`), '--key', file(`svid.${index}.key`), '--bundle', bundle];

before(async () => {
  const harness = await startTestAgent({
    entries: [
      { spiffeId: SERVER_ID, selectors: [`unix:uid:${uid}`], dnsNames: ['doctor.local'] },
      { spiffeId: CLIENT_ID, selectors: [`unix:uid:${uid}`] },
    ],
  });
  agents.push(harness);
  dir = harness.dir;
  out = path.join(dir, 'svids');
  await fetchSvids(harness, out);
});
after(async () => {
  await Promise.all(agents.map((agent) => agent.agent.stop()));
  await removeTempDirs();
});

describe('files written by meshid', () => {
  test('a fresh SVID from meshid: exit 0, "No problems found."', async () => {
    const result = await doctor(filesOf(0));
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /SPIFFE ID +spiffe:\/\/example\.org\/doctor\n/);
    assert.match(result.stdout, /DNS names +doctor\.local\n/);
    assert.match(result.stdout, /trust +trusted\n/);
    assert.match(result.stdout, /No problems found\.$/m);
  });

  test('--output json: { ok, findings, subject } with the leaf, the node intermediate and the root', async () => {
    const { report } = await doctorJson(filesOf(0));
    assert.deepEqual(Object.keys(report), ['ok', 'findings', 'subject']);
    assert.equal(report.ok, true);
    assert.deepEqual(report.findings, []);
    assert.equal(report.subject.spiffeId, SERVER_ID);
    assert.equal(report.subject.source, file('svid.0.pem'));
    assert.equal(report.subject.trust, 'trusted');
    assert.deepEqual(report.subject.chain.map((certificate) => certificate.label), ['chain #1', 'chain #2', 'bundle #1']);
    const leaf = new X509Certificate(pemBlocks(await readFile(file('svid.0.pem'), 'utf8'))[0] ?? '');
    assert.equal(report.subject.notAfter, new Date(leaf.validTo).toISOString());
  });

  test('the key file made readable by others: key.permissions, exit 1', async () => {
    const wideKey = file('wide.key');
    await copyFile(file('svid.0.key'), wideKey);
    await chmod(wideKey, 0o644);
    const { result, report } = await doctorJson(['--cert', file('svid.0.pem'), '--key', wideKey, '--bundle', file('bundle.0.pem')]);
    assert.equal(result.code, 1);
    assert.deepEqual(ids(report), ['key.permissions']);
    assert.equal(report.findings[0]?.fix, `chmod 600 ${wideKey}`);
  });

  test("the other SVID's key: key.mismatch", async () => {
    const { result, report } = await doctorJson(['--cert', file('svid.0.pem'), '--key', file('svid.1.key'), '--bundle', file('bundle.0.pem')]);
    assert.equal(result.code, 1);
    assert.deepEqual(ids(report), ['key.mismatch']);
  });

  test('the chain written intermediate first: chain.leaf-not-first', async () => {
    const reversed = file('reversed.pem');
    await writeFile(reversed, pemBlocks(await readFile(file('svid.0.pem'), 'utf8')).reverse().join(''));
    const { report } = await doctorJson(['--cert', reversed, '--key', file('svid.0.key'), '--bundle', file('bundle.0.pem')]);
    assert.deepEqual(ids(report), ['chain.leaf-not-first']);
  });

  test("another meshid's bundle: chain.untrusted", async () => {
    const other = await startTestAgent({ entries: [{ spiffeId: SERVER_ID, selectors: [`unix:uid:${uid}`] }] });
    agents.push(other);
    await fetchSvids(other, path.join(dir, 'other'));
    const { report } = await doctorJson(filesOf(0, path.join(dir, 'other', 'bundle.0.pem')));
    assert.deepEqual(ids(report), ['chain.untrusted']);
    assert.equal(report.subject.trust, 'untrusted');
  });

  test('judged 30 s after notAfter (--now): validity.expired with the clock-skew hint', async () => {
    const { report: fresh } = await doctorJson(filesOf(0));
    const notAfter = Date.parse(fresh.subject.notAfter ?? '');
    const { result, report } = await doctorJson([...filesOf(0), '--now', new Date(notAfter + 30_000).toISOString()]);
    assert.equal(result.code, 1);
    assert.deepEqual(ids(report), ['validity.expired']);
    assert.match(report.findings[0]?.fix ?? '', /clock-skew range/);
  });

  test('judged in the last quarter of its hour (--now): validity.expiring-soon, a warning, exit 0', async () => {
    const { report: fresh } = await doctorJson(filesOf(0));
    const notAfter = Date.parse(fresh.subject.notAfter ?? '');
    const { result, report } = await doctorJson([...filesOf(0), '--now', new Date(notAfter - 5 * 60_000).toISOString()]);
    assert.equal(result.code, 0, 'warnings alone do not fail the run');
    assert.deepEqual(ids(report), ['validity.expiring-soon']);
  });

  test('an RSA-2048 SVID from meshid (svid.keyType rsa-2048): key.rsa-weak, exit 0', async () => {
    const rsaAgent = await startTestAgent({ svid: { keyType: 'rsa-2048' }, entries: [{ spiffeId: SERVER_ID, selectors: [`unix:uid:${uid}`] }] });
    agents.push(rsaAgent);
    const rsaDir = path.join(dir, 'rsa');
    await fetchSvids(rsaAgent, rsaDir);
    const { result, report } = await doctorJson(['--cert', path.join(rsaDir, 'svid.0.pem'), '--key', path.join(rsaDir, 'svid.0.key'), '--bundle', path.join(rsaDir, 'bundle.0.pem')]);
    assert.equal(result.code, 0);
    assert.deepEqual(ids(report), ['key.rsa-weak']);
  });

  test('human output: each finding with its id, message and fix; exit 1', async () => {
    const result = await doctor(['--cert', file('svid.0.pem'), '--key', file('svid.1.key')]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^ERROR +key\.mismatch\n +the private key in .*svid\.1\.key does not belong to the leaf/m);
    assert.match(result.stdout, /^ +fix: +use the key written together with this certificate/m);
    assert.match(result.stdout, /trust +not checked \(no --bundle\)/);
    assert.match(result.stdout, /^1 error, 0 warnings\.$/m);
    assert.doesNotMatch(result.stdout + result.stderr, /PRIVATE KEY/);
  });
});

describe('usage errors exit 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['no input', [], /needs --cert FILE or --connect HOST:PORT/],
    ['a missing file', ['--cert', 'nowhere.pem'], /cannot read --cert nowhere\.pem: ENOENT/],
    ['a bad --now', ['--cert', 'x.pem', '--now', 'yesterday'], /--now wants an ISO time/],
    ['a bad --output', ['--cert', 'x.pem', '--output', 'yaml'], /--output is text or json/],
    ['--key without --cert', ['--key', 'k.pem', '--connect', '127.0.0.1:1'], /--key needs --cert/],
    ['a bad --connect', ['--connect', 'localhost'], /--connect wants HOST:PORT/],
    ['an unknown option', ['--cert', 'x.pem', '--colour'], /Unknown option '--colour'/],
  ];
  for (const [title, args, message] of cases) {
    test(title, async () => {
      const result = await doctor(args);
      assert.equal(result.code, 2, result.stdout + result.stderr);
      assert.match(result.stderr, message);
    });
  }

  test('--help exits 0 and documents the exit status', async () => {
    const result = await doctor(['--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Exit status: 0 when no finding is an error/);
  });
});

describe('--connect to a live TLS server', () => {
  const servers: tls.Server[] = [];
  after(() => servers.forEach((server) => server.close()));

  /** A loopback TLS server; resolves to "127.0.0.1:<port>". Records the client IDs it accepted. */
  async function serve(options: tls.TlsOptions, accepted: string[] = []): Promise<string> {
    const server = tls.createServer(options, (socket) => {
      if (socket.authorized) accepted.push(uriSan(socket.getPeerX509Certificate()?.toString() ?? '') ?? '');
      socket.on('error', () => undefined);
      socket.end();
    });
    server.on('tlsClientError', () => undefined);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const svid = async (index: number): Promise<{ cert: string; key: string }> => ({ cert: await readFile(file(`svid.${index}.pem`), 'utf8'), key: await readFile(file(`svid.${index}.key`), 'utf8') });

  test('a server presenting a meshid SVID: exit 0, its chain judged against the bundle', async () => {
    const target = await serve(await svid(0));
    const { result, report } = await doctorJson(['--connect', target, '--bundle', file('bundle.0.pem')]);
    assert.equal(result.code, 0, JSON.stringify(report.findings));
    assert.deepEqual(report.findings, []);
    assert.equal(report.subject.source, target);
    assert.equal(report.subject.spiffeId, SERVER_ID);
    assert.equal(report.subject.trust, 'trusted');
    assert.deepEqual(report.subject.chain.map((certificate) => certificate.label), ['peer #1', 'peer #2', 'bundle #1']);
  });

  test('mutual TLS: the client SVID given as --cert/--key is presented and accepted', async () => {
    const accepted: string[] = [];
    const bundlePem = await readFile(file('bundle.0.pem'), 'utf8');
    const target = await serve({ ...(await svid(0)), ca: bundlePem, requestCert: true, rejectUnauthorized: true }, accepted);
    const { result, report } = await doctorJson(['--connect', target, '--cert', file('svid.1.pem'), '--key', file('svid.1.key'), '--bundle', file('bundle.0.pem')]);
    assert.equal(result.code, 0, JSON.stringify(report.findings));
    assert.deepEqual(accepted, [CLIENT_ID], 'the server verified the client SVID');
  });

  test('a server that requires a client certificate, none given: tls.client-certificate-required', async () => {
    const bundlePem = await readFile(file('bundle.0.pem'), 'utf8');
    const target = await serve({ ...(await svid(0)), ca: bundlePem, requestCert: true, rejectUnauthorized: true });
    const { result, report } = await doctorJson(['--connect', target, '--bundle', file('bundle.0.pem')]);
    assert.equal(result.code, 1);
    assert.deepEqual(ids(report), ['tls.client-certificate-required']);
    assert.equal(report.subject.spiffeId, SERVER_ID, "the server's chain is still judged");
  });

  describe('servers with openssl-made certificates', { skip: needs('openssl') }, () => {
    let pki: OpensslPki;
    let root: Issued;
    before(async () => {
      pki = await OpensslPki.create(await makeTempDir('meshid-doctor-connect-'));
      root = await pki.root('connect-root');
    });
    const pemsOf = async (issued: Issued, chain: Issued[] = [issued]): Promise<{ cert: string; key: string }> => ({
      cert: (await Promise.all(chain.map((certificate) => readFile(certificate.certPath, 'utf8')))).join(''),
      key: await readFile(issued.keyPath, 'utf8'),
    });

    test('a self-signed SVID not in the bundle: chain.untrusted', async () => {
      const selfSigned = await pki.issue('self-signed-server', undefined, { extensions: ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature', 'extendedKeyUsage = serverAuth, clientAuth', `subjectAltName = URI:${SERVER_ID}`] });
      const target = await serve(await pemsOf(selfSigned));
      const { result, report } = await doctorJson(['--connect', target, '--bundle', file('bundle.0.pem')]);
      assert.equal(result.code, 1);
      assert.deepEqual(ids(report), ['chain.untrusted']);
      assert.match(report.findings[0]?.message ?? '', /self-signed peer #1 \(CN=self-signed-server\)/);
    });

    test('an expired SVID: validity.expired', async () => {
      const expired = await pki.issue('expired-server', root, { startDate: '20200101000000Z', endDate: '20200201000000Z' });
      const target = await serve(await pemsOf(expired));
      const { result, report } = await doctorJson(['--connect', target, '--bundle', root.certPath]);
      assert.equal(result.code, 1);
      assert.deepEqual(ids(report), ['validity.expired']);
      assert.equal(report.findings[0]?.where, 'peer #1');
    });
  });

  test('nothing listening: connect.failed', async () => {
    const target = await serve(await svid(0));
    await new Promise((resolve) => servers.pop()?.close(resolve));
    const { result, report } = await doctorJson(['--connect', target]);
    assert.equal(result.code, 1);
    assert.deepEqual(ids(report), ['connect.failed']);
    assert.match(report.findings[0]?.message ?? '', /ECONNREFUSED/);
  });
});
