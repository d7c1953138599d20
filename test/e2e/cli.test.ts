import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { openssl } from '../support/openssl';
import { pemBlocks } from '../support/pem';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';

const MAIN = path.join(__dirname, '..', '..', 'src', 'agent', 'cli', 'main.js');
const run = promisify(execFile);
const uid = process.getuid?.() ?? 0;
const agents: ChildProcess[] = [];

async function meshid(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN, ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

/** Starts `meshid run` and resolves once it logs that it is serving; rejects if it exits first. */
function startAgentProcess(configFile: string, cwd: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [MAIN, 'run', '--config', configFile], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  agents.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('meshid agent serving')) resolve(child);
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`agent exited with ${code}: ${output}`)));
  });
}

let dir: string;
before(async () => {
  dir = await makeTempDir('meshid-cli-');
  // The classic operator workflow for a private CA, exactly as documented in countless guides.
  await writeFile(path.join(dir, 'pass.txt'), 'correct horse battery staple\n');
  const key = await openssl(['genrsa', '-aes256', '-passout', 'file:pass.txt', '-out', 'rootCA.key', '4096'], dir);
  assert.ok(key.ok, key.output);
  const cert = await openssl(['req', '-x509', '-new', '-key', 'rootCA.key', '-passin', 'file:pass.txt', '-sha256', '-days', '3650', '-subj', '/CN=Example Root CA', '-out', 'rootCA.pem'], dir);
  assert.ok(cert.ok, cert.output);
});
after(async () => {
  for (const agent of agents) agent.kill('SIGKILL');
  await removeTempDirs();
});

function diskConfig(name: string, upstream: string): string {
  return `trustDomain: example.org
dataDir: ${dir}/${name}-data
socketPath: ${dir}/${name}/agent.sock
upstream:
${upstream}
entries:
  - spiffeId: spiffe://example.org/ops
    selectors: ["unix:uid:${uid}"]
`;
}

test('invalid config: exit 2, every problem listed, nothing started', async () => {
  await writeFile(
    path.join(dir, 'bad.yaml'),
    `trustDomain: Example.ORG
socketPath: ${dir}/bad/agent.sock
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
  const result = await meshid(['run', '--config', 'bad.yaml'], dir);
  assert.equal(result.code, 2);
  for (const expected of [/colour/, /trustDomain/, /svid\.keyType/]) assert.match(result.stderr, expected);
  await assert.rejects(stat(path.join(dir, 'bad', 'agent.sock')), 'no socket was created');
});

test('semantic problems are all listed together too', async () => {
  await writeFile(
    path.join(dir, 'bad2.yaml'),
    `trustDomain: example.org
svid: { ttl: 5s }
ca: { ttl: forever }
entries:
  - { spiffeId: "http://example.org/x", selectors: ["unix:uid"] }
  - { spiffeId: "spiffe://other.org/y", selectors: ["k9s:ns:default"] }
`,
  );
  const result = await meshid(['run', '--config', 'bad2.yaml'], dir);
  assert.equal(result.code, 2);
  for (const expected of [/svid\.ttl.*10s minimum/, /ca\.ttl/, /entries\[0\]\.spiffeId/, /entries\[0\]\.selectors\[0\]/, /entries\[1\]\.spiffeId.*other\.org/, /unknown selector type "k9s"/]) {
    assert.match(result.stderr, expected);
  }
});

test('an openssl-made encrypted RSA-4096 root works as the disk upstream, end to end', async () => {
  await writeFile(path.join(dir, 'good.yaml'), diskConfig('good', '  type: disk\n  certFile: rootCA.pem\n  keyFile: rootCA.key\n  keyPassphraseFile: pass.txt'));
  await startAgentProcess('good.yaml', dir);
  const out = path.join(dir, 'out');
  const fetched = await meshid(['api', 'fetch', 'x509', '--socket', `${dir}/good/agent.sock`, '--write', out], dir);
  assert.equal(fetched.code, 0, fetched.stderr);
  assert.equal((await stat(path.join(out, 'svid.0.key'))).mode & 0o777, 0o600);
  const [leaf, ...intermediates] = pemBlocks(await readFile(path.join(out, 'svid.0.pem'), 'utf8'));
  await writeFile(path.join(out, 'leaf.pem'), leaf ?? '');
  await writeFile(path.join(out, 'intermediates.pem'), intermediates.join(''));
  assert.equal(await readFile(path.join(out, 'bundle.0.pem'), 'utf8'), await readFile(path.join(dir, 'rootCA.pem'), 'utf8').then((pem) => pemBlocks(pem).join('')));
  const verify = await openssl(['verify', '-CAfile', 'bundle.0.pem', '-untrusted', 'intermediates.pem', 'leaf.pem'], out);
  assert.ok(verify.ok, verify.output);

  // Environment discovery as SPIFFE libraries do it.
  const summary = await run(process.execPath, [MAIN, 'api', 'fetch', 'x509'], { cwd: dir, env: { ...process.env, SPIFFE_ENDPOINT_SOCKET: `unix://${dir}/good/agent.sock` } });
  assert.match(summary.stdout, /spiffe:\/\/example\.org\/ops/);
});

test('a wrong passphrase, a missing key file and a non-CA certificate each stop start-up with exit 2', async () => {
  await writeFile(path.join(dir, 'wrong.txt'), 'not it\n');
  const leafCert = await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.pem', '-days', '30', '-subj', '/CN=not a ca', '-addext', 'basicConstraints=critical,CA:FALSE'], dir);
  assert.ok(leafCert.ok, leafCert.output);
  const cases: [string, string, RegExp][] = [
    ['wrongpass', '  type: disk\n  certFile: rootCA.pem\n  keyFile: rootCA.key\n  keyPassphraseFile: wrong.txt', /wrong passphrase/],
    ['nopass', '  type: disk\n  certFile: rootCA.pem\n  keyFile: rootCA.key', /encrypted; set keyPassphraseFile/],
    ['missing', '  type: disk\n  certFile: rootCA.pem\n  keyFile: nowhere.key', /cannot read keyFile .*nowhere\.key/],
    ['notca', '  type: disk\n  certFile: leaf.pem\n  keyFile: leaf.key', /not a CA certificate/],
  ];
  for (const [name, upstream, message] of cases) {
    await writeFile(path.join(dir, `${name}.yaml`), diskConfig(name, upstream));
    const result = await meshid(['run', '--config', `${name}.yaml`], dir);
    assert.equal(result.code, 2, `${name}: ${result.stderr}`);
    assert.match(result.stderr, /upstream\(disk\)/);
    assert.match(result.stderr, message);
    assert.doesNotMatch(result.stderr, /PRIVATE KEY|correct horse/, 'no key material or passphrase in errors');
  }
});
