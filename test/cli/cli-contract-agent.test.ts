/**
 * The CLI contract against a real agent started by the CLI itself (`meshid run --config`): the
 * shape of what each verb prints on success, `--output json` documents, and `doctor` on good
 * and broken files.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, copyFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AgentProcesses, meshid, MESHID_MAIN, type CliResult } from '../support/meshid-cli';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { assertFailure, assertSuccess, escapeRegExp, freePort } from './support/contract';

const ID = 'spiffe://example.org/cli-contract';
const ISO = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';
const agents = new AgentProcesses();
let dir: string;
let socketPath: string;
let admin: string;
let out: string;

before(async () => {
  dir = await makeTempDir('meshid-cli-agent-');
  socketPath = path.join(dir, 'agent.sock');
  admin = `127.0.0.1:${await freePort()}`;
  const config = `trustDomain: example.org\ndataDir: ${dir}/data\nsocketPath: ${socketPath}\nadmin:\n  listen: ${admin}\nentries:\n  - spiffeId: ${ID}\n    selectors: ['unix:uid:${process.getuid?.() ?? 0}']\n    hint: contract\n`;
  await writeFile(path.join(dir, 'meshid.yaml'), config);
  await agents.start('meshid.yaml', socketPath, dir);
  out = path.join(dir, 'svids');
});
after(async () => {
  await agents.stopAll();
  await removeTempDirs();
});

const cli = (...args: string[]): Promise<CliResult> => meshid(args, { cwd: dir });

describe('api fetch x509', () => {
  test('summary: count, then ID, hint, serial, validity, chain and bundle sizes', async () => {
    const result = await cli('api', 'fetch', 'x509', '--socket', socketPath);
    assertSuccess(result);
    const expected = new RegExp(
      `^Received 1 X\\.509-SVID\\n\\nSPIFFE ID: +${escapeRegExp(ID)}\\nHint: +contract\\nSerial: +[0-9A-F]+\\nValid: +${ISO} → ${ISO}\\nChain: +2 certificates \\(leaf \\+ intermediates\\)\\nBundle: +1 root certificates\\n$`,
    );
    assert.match(result.stdout, expected);
  });

  test('--write: svid.0.pem, svid.0.key (0600), bundle.0.pem, one line per SVID', async () => {
    const result = await cli('api', 'fetch', 'x509', '--socket', socketPath, '--write', out);
    assertSuccess(result);
    assert.equal(result.stdout, `${ID}: wrote ${path.join(out, 'svid.0.pem')}, svid.0.key, bundle.0.pem\n`);
    assert.deepEqual((await readdir(out)).sort(), ['bundle.0.pem', 'svid.0.key', 'svid.0.pem']);
    assert.equal((await stat(path.join(out, 'svid.0.key'))).mode & 0o777, 0o600);
    assert.equal((await stat(path.join(out, 'svid.0.pem'))).mode & 0o777, 0o644);
  });
});

describe('api fetch jwt / api validate jwt', () => {
  let token = '';
  test('fetch --output json: {"svids":[{spiffeId, hint, expiresAt, token}]} on one line', async () => {
    const result = await cli('api', 'fetch', 'jwt', '--audience', 'vault', '--audience', 'db', '--socket', socketPath, '--output', 'json');
    assertSuccess(result);
    assert.equal(result.stdout.split('\n').length, 2, 'one line');
    const parsed = JSON.parse(result.stdout) as { svids: { spiffeId: string; hint: string; expiresAt: string; token: string }[] };
    assert.deepEqual(Object.keys(parsed), ['svids']);
    assert.equal(parsed.svids.length, 1);
    const [svid] = parsed.svids;
    assert.deepEqual(Object.keys(svid ?? {}), ['spiffeId', 'hint', 'expiresAt', 'token']);
    assert.equal(svid?.spiffeId, ID);
    assert.equal(svid?.hint, 'contract');
    assert.match(svid?.expiresAt ?? '', new RegExp(`^${ISO}$`));
    token = svid?.token ?? '';
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  test('fetch, text: count and audiences, then ID, hint, expiry and token', async () => {
    const result = await cli('api', 'fetch', 'jwt', '--audience', 'vault', '--audience', 'db', '--socket', socketPath, '--spiffe-id', ID);
    assertSuccess(result);
    assert.match(result.stdout, new RegExp(`^Received 1 JWT-SVID for vault, db\\n\\nSPIFFE ID: +${escapeRegExp(ID)}\\nHint: +contract\\nExpires: +${ISO}\\nToken: +[\\w-]+\\.[\\w-]+\\.[\\w-]+\\n$`));
  });

  test('fetch for an ID this process does not hold: exit 1', async () => {
    assertFailure(await cli('api', 'fetch', 'jwt', '--audience', 'vault', '--socket', socketPath, '--spiffe-id', 'spiffe://example.org/other'), /^meshid: fetch from .* failed: PERMISSION_DENIED: /);
  });

  test('validate --output json: {"spiffeId", "claims"} on one line', async () => {
    const result = await cli('api', 'validate', 'jwt', '--audience', 'vault', '--svid', token, '--socket', socketPath, '--output', 'json');
    assertSuccess(result);
    const parsed = JSON.parse(result.stdout) as { spiffeId: string; claims: Record<string, unknown> };
    assert.deepEqual(Object.keys(parsed), ['spiffeId', 'claims']);
    assert.equal(parsed.spiffeId, ID);
    assert.equal(parsed.claims.sub, ID);
    assert.deepEqual(parsed.claims.aud, ['vault', 'db']);
  });

  test('validate, text: the audience, the ID, the claims indented', async () => {
    const result = await cli('api', 'validate', 'jwt', '--audience', 'vault', '--svid', token, '--socket', socketPath);
    assertSuccess(result);
    assert.match(result.stdout, new RegExp(`^Valid JWT-SVID for vault\\n\\nSPIFFE ID: +${escapeRegExp(ID)}\\nClaims: +\\{\\n {18}"`));
  });

  test('validate for another audience, and a garbled token: exit 1 with INVALID_ARGUMENT', async () => {
    assertFailure(await cli('api', 'validate', 'jwt', '--audience', 'other', '--svid', token, '--socket', socketPath), /^meshid: INVALID_ARGUMENT: .*\n$/);
    assertFailure(await cli('api', 'validate', 'jwt', '--audience', 'vault', '--svid', 'not-a-jwt', '--socket', socketPath), /^meshid: INVALID_ARGUMENT: .*\n$/);
  });
});

describe('healthcheck and api watch', () => {
  test('healthcheck: exit 0, one line on stdout', async () => {
    const result = await cli('healthcheck', '--socket', socketPath, '--timeout', '5s');
    assertSuccess(result);
    assert.equal(result.stdout, `healthy: agent at ${socketPath} served bundles for spiffe://example.org\n`);
  });

  for (const output of ['text', 'json'] as const) {
    test(`api watch --output ${output}: the first update at once; SIGINT ends it with exit 0`, async () => {
      const child = spawn(process.execPath, [MESHID_MAIN, 'api', 'watch', '--socket', socketPath, '--output', output], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const wanted = output === 'json' ? 1 : 2;
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.split('\n').length > wanted) resolve();
        });
        void exited.then((code) => reject(new Error(`api watch exited ${code} early: ${stderr}`)));
      });
      child.kill('SIGINT');
      assert.equal(await exited, 0, stderr);
      assert.equal(stderr, '');
      if (output === 'json') {
        const update = JSON.parse(stdout.split('\n')[0] ?? '') as { receivedAt: string; svids: { spiffeId: string; serial: string; notAfter: string }[] };
        assert.deepEqual(Object.keys(update), ['receivedAt', 'svids']);
        assert.match(update.receivedAt, new RegExp(`^${ISO}$`));
        assert.deepEqual(Object.keys(update.svids[0] ?? {}), ['spiffeId', 'serial', 'notAfter']);
        assert.equal(update.svids[0]?.spiffeId, ID);
      } else {
        assert.match(stdout, new RegExp(`^\\[${ISO}\\] update 1: 1 X\\.509-SVID\\n {2}${escapeRegExp(ID)} {2}serial [0-9A-F]+ {2}notAfter ${ISO}\\n$`));
      }
    });
  }
});

describe('ca status against the agent', () => {
  test('text and json', async () => {
    const text = await cli('ca', 'status', '--admin', admin);
    assertSuccess(text);
    assert.match(text.stdout, new RegExp(`^phase: +idle \\(since ${ISO}\\)\\nbundle version: +\\d+\\nrotations done: +0\\n`));
    const json = await cli('ca', 'status', '--admin', admin, '--output', 'json');
    assertSuccess(json);
    assert.equal((JSON.parse(json.stdout) as { phase: string }).phase, 'idle');
  });
});

describe('doctor', () => {
  const files = (): string[] => ['--cert', path.join(out, 'svid.0.pem'), '--key', path.join(out, 'svid.0.key'), '--bundle', path.join(out, 'bundle.0.pem')];

  test('a fresh SVID: exit 0, the summary, "No problems found."', async () => {
    const result = await cli('doctor', ...files());
    assertSuccess(result);
    const expected = [
      `meshid doctor: ${path.join(out, 'svid.0.pem')}`,
      `  SPIFFE ID   ${ID}`,
      '  subject     .+',
      '  key         EC P-256',
      `  valid       ${ISO} → ${ISO}`,
      '  trust       trusted',
      '  path        chain #1 .+',
      '              ↑ chain #2 .+',
      '              ↑ bundle #1 .+',
      '',
      'No problems found.',
      '',
    ].join('\n');
    assert.match(result.stdout, new RegExp(`^${expected}$`));
  });

  test('--output json: pretty-printed { ok, findings, subject }', async () => {
    const result = await cli('doctor', ...files(), '--output', 'json');
    assertSuccess(result);
    assert.match(result.stdout, /^\{\n {2}"ok": true,\n {2}"findings": \[\],\n {2}"subject": \{\n/);
    const report = JSON.parse(result.stdout) as { subject: Record<string, unknown> & { chain: Record<string, unknown>[] } };
    assert.deepEqual(Object.keys(report.subject), ['source', 'spiffeId', 'dnsNames', 'subject', 'issuer', 'serialNumber', 'notBefore', 'notAfter', 'publicKey', 'trust', 'chain']);
    assert.equal(report.subject.spiffeId, ID);
    assert.equal(report.subject.publicKey, 'EC P-256');
    assert.equal(report.subject.trust, 'trusted');
    assert.equal(report.subject.chain.length, 3);
    assert.deepEqual(Object.keys(report.subject.chain[0] ?? {}), ['label', 'subject', 'issuer', 'notBefore', 'notAfter', 'sha256']);
  });

  test('a key readable by others: exit 1, the finding with its fix', async () => {
    const key = path.join(dir, 'loose.key');
    await copyFile(path.join(out, 'svid.0.key'), key);
    await chmod(key, 0o644);
    const result = await cli('doctor', '--cert', path.join(out, 'svid.0.pem'), '--key', key);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr, '');
    assert.match(result.stdout, /\n\nERROR {3}key\.permissions\n {8}.*loose\.key has mode 0644, wider than 0600.*\n {2}fix: {2}chmod 600 .*loose\.key\n\n1 error, 0 warnings\.\n$/);
    assert.match(result.stdout, /trust {7}not checked \(no --bundle\)/);
  });

  test('a file without certificates: exit 1, chain.empty, no subject', async () => {
    const empty = path.join(dir, 'empty.pem');
    await writeFile(empty, 'nothing here\n');
    const result = await cli('doctor', '--cert', empty, '--output', 'json');
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as { ok: boolean; findings: { id: string; severity: string }[]; subject: { subject: unknown; chain: unknown[] } };
    assert.equal(report.ok, false);
    assert.deepEqual(report.findings.map((finding) => [finding.id, finding.severity]), [['chain.empty', 'error']]);
    assert.equal(report.subject.subject, null);
    assert.deepEqual(report.subject.chain, []);
  });

  test('--connect to nothing: exit 1, connect.failed', async () => {
    const result = await cli('doctor', '--connect', `127.0.0.1:${await freePort()}`);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /^meshid doctor: 127\.0\.0\.1:\d+\n\nERROR {3}connect\.failed\n {8}cannot connect to 127\.0\.0\.1:\d+: ECONNREFUSED\n {2}fix: {2}.+\n\n1 error, 0 warnings\.\n$/);
  });
});
