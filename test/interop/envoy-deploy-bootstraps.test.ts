import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { freePort } from '../support/nginx';
import { uriSan } from '../support/pem';
import { eventually, StreamedWorkload } from '../support/rotation-traffic';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { needs } from '../support/tools';
import { REPO } from '../deploy/support/repo-files';
import { substitutedBootstrap } from './support/deploy-bootstrap';
import { EnvoyProcess, validateConfig } from './support/envoy-process';
import { get } from './support/request-loop';

/** The identities the deploy/envoy bootstraps name: the sidecar's, its caller's and its backend's. */
const WEB_ID = 'spiffe://example.org/web';
const FRONTEND_ID = 'spiffe://example.org/frontend';
const BACKEND_ID = 'spiffe://example.org/backend';
const WEB_UID = 1104;
const BOOTSTRAPS = ['envoy-sidecar.yaml', 'envoy-sidecar-spiffe-validator.yaml'];

/** Starts a server and returns its port. */
async function listen(server: http.Server | https.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

interface InboundResult {
  readonly status: number | undefined;
  readonly body: string;
  /** The SPIFFE ID the sidecar presented. */
  readonly server: string | undefined;
}

/** GET / on the sidecar's inbound listener, presenting `caller`'s SVID; the sidecar is checked by SPIFFE ID, not host name. */
function callInbound(port: number, caller: StreamedWorkload): Promise<InboundResult> {
  return new Promise((resolve, reject) => {
    const { chainPem, keyPem, bundlePem } = caller.identity;
    const options = { host: '127.0.0.1', port, path: '/', agent: false, cert: chainPem, key: keyPem, ca: bundlePem, checkServerIdentity: () => undefined };
    const request = https.get(options, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode, body, server: uriSan((response.socket as TLSSocket).getPeerX509Certificate()?.toString() ?? '') }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

/**
 * meshid's shipped Envoy bootstraps, run for real (issue 10, item 7): `envoy --mode validate`
 * on the file as shipped and as substituted, then the substituted file as a sidecar for
 * spiffe://example.org/web: a frontend calls its inbound mTLS listener, and its outbound
 * listener reaches a backend over mTLS. This test process holds the frontend and backend SVIDs.
 */
describe('deploy/envoy bootstraps with a real Envoy', { skip: needs('envoy') }, () => {
  let harness: Harness;
  let frontend: StreamedWorkload;
  let backend: StreamedWorkload;
  const servers: (http.Server | https.Server)[] = [];
  const envoys: EnvoyProcess[] = [];

  before(async () => {
    const uid = process.getuid?.() ?? 0;
    harness = await startTestAgent({
      entries: [
        { spiffeId: WEB_ID, selectors: [`unix:uid:${WEB_UID}`] },
        { spiffeId: FRONTEND_ID, selectors: [`unix:uid:${uid}`] },
        { spiffeId: BACKEND_ID, selectors: [`unix:uid:${uid}`] },
      ],
    });
    frontend = new StreamedWorkload(harness.socketPath, FRONTEND_ID);
    backend = new StreamedWorkload(harness.socketPath, BACKEND_ID);
    await eventually(() => frontend.ready && backend.ready, 'the frontend and backend SVIDs');
  });
  after(async () => {
    await Promise.all(envoys.map((envoy) => envoy.stop()));
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
    frontend?.close();
    backend?.close();
    await harness?.agent.stop();
    await removeTempDirs();
  });

  for (const file of BOOTSTRAPS) {
    it(`${file}: validates, and carries a request in (from the frontend) and out (to the backend) over mTLS`, async () => {
      const shipped = await validateConfig(path.join(REPO, 'deploy', 'envoy', file), WEB_UID);
      assert.equal(shipped.code, 0, shipped.output);

      // The application behind the inbound listener, and the backend the outbound one reaches.
      const app = http.createServer((_request, response) => response.end('app'));
      servers.push(app);
      const appPort = await listen(app);
      const backendServer = https.createServer(
        { cert: backend.identity.chainPem, key: backend.identity.keyPem, ca: backend.identity.bundlePem, requestCert: true, rejectUnauthorized: true },
        (request, response) => response.end(uriSan((request.socket as TLSSocket).getPeerX509Certificate()?.toString() ?? '') ?? 'none'),
      );
      servers.push(backendServer);
      const backendPort = await listen(backendServer);

      const [adminPort, inboundPort, outboundPort] = [await freePort(), await freePort(), await freePort()];
      const config = substitutedBootstrap(file, { adminPort, socketPath: harness.socketPath, inboundPort, outboundPort, appPort, backendPort });
      const dir = await makeTempDir('meshid-deploy-envoy-');
      const configFile = path.join(dir, file);
      await writeFile(configFile, stringify(config), { mode: 0o644 });
      const substituted = await validateConfig(configFile, WEB_UID);
      assert.equal(substituted.code, 0, substituted.output);

      const envoy = await EnvoyProcess.start(file.replace('.yaml', ''), WEB_UID, adminPort, dir, config);
      envoys.push(envoy);
      await envoy.ready();
      assert.ok((await envoy.leafSerials(WEB_ID)).size > 0, envoy.logTail());

      // In: the frontend presents its SVID and checks the sidecar is web.
      const inbound = await callInbound(inboundPort, frontend);
      assert.deepEqual(inbound, { status: 200, body: 'app', server: WEB_ID }, envoy.logTail());
      // Only the frontend may call (match_typed_subject_alt_names): the backend's SVID is refused.
      const refused = await callInbound(inboundPort, backend).catch((error: Error) => ({ error: error.message }));
      assert.ok(!('status' in refused) || refused.status !== 200, JSON.stringify(refused));

      // Out: plain TCP in, mTLS out; the backend answers with the client ID it verified.
      const outbound = await get(outboundPort, '/');
      assert.deepEqual({ status: outbound.status, body: outbound.body }, { status: 200, body: WEB_ID }, envoy.logTail());
    });
  }

  it('README "Envoy sidecar": each YAML snippet is an excerpt of deploy/envoy/envoy-sidecar.yaml, the file run above', async () => {
    const readme = await readFile(path.join(REPO, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Envoy sidecar'), readme.indexOf('## Envoy / SDS'));
    const deployed = (await readFile(path.join(REPO, 'deploy', 'envoy', 'envoy-sidecar.yaml'), 'utf8')).split('\n').map((line) => line.trimEnd());
    const snippets = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => (match[1] ?? '').trimEnd().split('\n'));
    const excerpts = snippets.filter((lines) => !lines[0]?.startsWith('entries:')); // the entry is meshid config, not Envoy's
    assert.ok(excerpts.length >= 2);
    for (const lines of excerpts) {
      const found = deployed.some((_, start) => lines.every((line, offset) => deployed[start + offset] === line));
      assert.ok(found, `not in deploy/envoy/envoy-sidecar.yaml:\n${lines.join('\n')}`);
    }
  });
});
