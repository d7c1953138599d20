import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { meshid } from '../support/meshid-cli';
import { openssl } from '../support/openssl';
import { pemBlocks, uriSan } from '../support/pem';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { needs } from '../support/tools';
import { findNginx, nginxArgs, startNginx, stopNginx, writeNginxConf } from './support/nginx';
import { parseEmbeddedYaml, repoFile } from './support/repo-files';

// deploy/nginx/meshid-mtls.conf run by the real nginx, with certificates a real agent minted:
// nginx's SVID (with the DNS name localhost) and a client's, fetched with `meshid api fetch
// x509 --write` into the layout meshid's `files:` writes (chain leaf first, PKCS#8 key, bundle).
// The agent's upstream is an operator intermediate under an openssl root, the deepest chain
// meshid serves (leaf, node intermediate, upstream intermediate): ssl_verify_depth must allow it.
// Only the listen address and the upstream change, to unix sockets in a temp directory.
const NGINX_ID = 'spiffe://example.org/nginx';
const CLIENT_ID = 'spiffe://example.org/client';
const nginx = findNginx();
const block = repoFile('deploy/nginx/meshid-mtls.conf');
const [nginxFiles] = (parseEmbeddedYaml(repoFile('deploy/systemd/meshid.yaml'), 'meshid.yaml') as { files: { spiffeId: string; certFile: string; keyFile: string; bundleFile: string }[] }).files;

/** The single argument of a directive in the block (`ssl_verify_depth 2;` → "2"). */
function directive(name: string): string | undefined {
  return new RegExp(`^\\s*${name}\\s+([^;]+);`, 'm').exec(block)?.[1]?.trim();
}

/** Replaces `from` in `text`, failing when it is not there (so the test cannot silently run another config). */
function replaceOnce(text: string, from: string | RegExp, to: string): string {
  const replaced = text.replace(from, to);
  assert.notEqual(replaced, text, `${String(from)} is not in deploy/nginx/meshid-mtls.conf`);
  return replaced;
}

/** An operator root and an intermediate under it (CA, keyCertSign, room for meshid's node CA). */
async function makeIntermediateCa(dir: string): Promise<void> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const steps = [
    ['req', '-x509', ...ec, '-keyout', 'root.key', '-out', 'root.pem', '-days', '2', '-subj', '/CN=operator root', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    ['req', '-new', ...ec, '-keyout', 'intermediate.key', '-out', 'intermediate.csr', '-subj', '/CN=cluster intermediate'],
    ['x509', '-req', '-in', 'intermediate.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-days', '1', '-sha256', '-extfile', 'intermediate.ext', '-out', 'intermediate.pem'],
  ];
  await writeFile(path.join(dir, 'intermediate.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  for (const args of steps) {
    const result = await openssl(args, dir);
    assert.ok(result.ok, `openssl ${args.join(' ')}: ${result.output}`);
  }
}

interface Exchange {
  status?: number;
  body?: string;
  serverId?: string;
  error?: string;
}

/** One HTTPS request over nginx's unix socket; never rejects, so refusals can be asserted. */
function request(socketPath: string, client: { cert: string; key: string } | undefined, ca: string): Promise<Exchange> {
  return new Promise((resolve) => {
    const req = https.request({ socketPath, path: '/hello', servername: 'localhost', ca, ...(client ?? {}), agent: false }, (res) => {
      const serverId = uriSan((res.socket as TLSSocket).getPeerX509Certificate()?.toString() ?? '');
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode, body, serverId }));
    });
    req.on('error', (error) => resolve({ error: error.message }));
    req.end();
  });
}

describe('deploy/nginx/meshid-mtls.conf', { skip: needs('nginx', 'openssl') }, () => {
  let dir: string;
  let harness: Harness;
  let nginxProcess: ChildProcess | undefined;
  let app: http.Server | undefined;
  let conf: string;
  let bundle: string;
  let clientIdentity: { cert: string; key: string };
  const nginxSocket = (): string => path.join(dir, 'nginx.sock');

  before(async () => {
    dir = await makeTempDir('meshid-nginx-');
    const uid = process.getuid?.() ?? 0;
    await makeIntermediateCa(dir);
    harness = await startTestAgent({
      upstream: { type: 'disk', certFile: path.join(dir, 'intermediate.pem'), keyFile: path.join(dir, 'intermediate.key'), bundleFile: path.join(dir, 'root.pem') },
      entries: [
        { spiffeId: NGINX_ID, selectors: [`unix:uid:${uid}`], dnsNames: ['localhost'] },
        { spiffeId: CLIENT_ID, selectors: [`unix:uid:${uid}`] },
      ],
    });
    const fetched = await meshid(['api', 'fetch', 'x509', '--socket', harness.socketPath, '--write', path.join(dir, 'svids')], { cwd: dir });
    assert.equal(fetched.code, 0, fetched.stderr);
    const svids = path.join(dir, 'svids');
    await copyFile(path.join(svids, 'svid.0.pem'), path.join(dir, 'chain.pem'));
    await copyFile(path.join(svids, 'svid.0.key'), path.join(dir, 'key.pem'));
    await copyFile(path.join(svids, 'bundle.0.pem'), path.join(dir, 'bundle.pem'));
    bundle = await readFile(path.join(dir, 'bundle.pem'), 'utf8');
    assert.equal(pemBlocks(await readFile(path.join(dir, 'chain.pem'), 'utf8')).length, 3, 'leaf, node intermediate, upstream intermediate');
    clientIdentity = { cert: await readFile(path.join(svids, 'svid.1.pem'), 'utf8'), key: await readFile(path.join(svids, 'svid.1.key'), 'utf8') };

    let server = block;
    server = replaceOnce(server, nginxFiles?.certFile ?? '<certFile>', path.join(dir, 'chain.pem'));
    server = replaceOnce(server, nginxFiles?.keyFile ?? '<keyFile>', path.join(dir, 'key.pem'));
    server = replaceOnce(server, nginxFiles?.bundleFile ?? '<bundleFile>', path.join(dir, 'bundle.pem'));
    server = replaceOnce(server, /^(\s*)listen\s+8443\s+ssl;/m, `$1listen unix:${nginxSocket()} ssl;`);
    server = replaceOnce(server, /^\s*listen\s+\[::\]:8443\s+ssl;\n/m, '');
    server = replaceOnce(server, 'proxy_pass http://127.0.0.1:8080;', `proxy_pass http://unix:${path.join(dir, 'app.sock')}:;`);
    await writeFile(path.join(dir, 'meshid-mtls.conf'), server);
    conf = await writeNginxConf(dir, path.join(dir, 'meshid-mtls.conf'));

    // The application behind nginx answers with what nginx told it about the client.
    app = http.createServer((req, res) => res.end(JSON.stringify({ verify: req.headers['x-client-verify'], cert: req.headers['x-client-cert'] })));
    await new Promise<void>((resolve) => app?.listen(path.join(dir, 'app.sock'), resolve));
  });
  after(async () => {
    await stopNginx(nginxProcess);
    await new Promise((resolve) => (app ? app.close(resolve) : resolve(undefined)));
    await harness?.agent.stop();
    await removeTempDirs();
  });

  test("reads the files meshid.yaml's `files:` entry writes for nginx", () => {
    assert.equal(nginxFiles?.spiffeId, NGINX_ID);
    assert.equal(directive('ssl_certificate'), nginxFiles.certFile);
    assert.equal(directive('ssl_certificate_key'), nginxFiles.keyFile);
    assert.equal(directive('ssl_client_certificate'), nginxFiles.bundleFile);
    assert.equal(directive('ssl_verify_client'), 'on');
    assert.equal(directive('ssl_verify_depth'), '2');
    assert.equal(directive('ssl_protocols'), 'TLSv1.2 TLSv1.3');
  });

  test('nginx -t accepts it with real certificate files', () => {
    const result = spawnSync(nginx ?? 'nginx', ['-t', ...nginxArgs(dir, conf)], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /test is successful/);
  });

  describe('served by nginx', () => {
    before(async () => {
      nginxProcess = await startNginx(nginx ?? 'nginx', dir, conf, nginxSocket());
    });

    test('a client with an SVID of the trust domain gets through, its certificate forwarded', async () => {
      const exchange = await request(nginxSocket(), clientIdentity, bundle);
      assert.equal(exchange.status, 200, JSON.stringify(exchange));
      assert.equal(exchange.serverId, NGINX_ID, 'the client verified nginx as spiffe://example.org/nginx');
      const seen = JSON.parse(exchange.body ?? '{}') as { verify?: string; cert?: string };
      assert.equal(seen.verify, 'SUCCESS');
      assert.equal(uriSan(decodeURIComponent(seen.cert ?? '')), CLIENT_ID, 'the application can authorize by SPIFFE ID');
    });

    test('a client without a certificate is refused', async () => {
      const exchange = await request(nginxSocket(), undefined, bundle);
      assert.equal(exchange.status, 400, JSON.stringify(exchange));
      assert.match(exchange.body ?? '', /No required SSL certificate was sent/);
    });

    test('a certificate from another CA is refused, even with a SPIFFE ID of the trust domain', async () => {
      const made = await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'intruder.key', '-out', 'intruder.pem', '-days', '1', '-subj', '/CN=intruder', '-addext', `subjectAltName=URI:${CLIENT_ID}`], dir);
      assert.ok(made.ok, made.output);
      const intruder = { cert: await readFile(path.join(dir, 'intruder.pem'), 'utf8'), key: await readFile(path.join(dir, 'intruder.key'), 'utf8') };
      const exchange = await request(nginxSocket(), intruder, bundle);
      assert.equal(exchange.status, 400, JSON.stringify(exchange));
      assert.match(exchange.body ?? '', /The SSL certificate error/);
    });
  });
});
