import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { openssl } from '../support/openssl';
import { uriSan } from '../support/pem';
import { removeTempDirs } from '../support/temp-dir';

const CLIENT = path.join(__dirname, '..', 'support', 'workload-client-main.js');
const run = promisify(execFile);

interface Svid {
  spiffeId: string;
  chainPem: string;
  keyPem: string;
  bundlePem: string;
}

async function svidOf(uid: number, socketPath: string): Promise<Svid> {
  const { stdout } = await run(process.execPath, [CLIENT, socketPath], { uid, gid: uid });
  const svid = (JSON.parse(stdout) as { svids?: Svid[] }).svids?.[0];
  assert.ok(svid, `uid ${uid} got no SVID: ${stdout}`);
  return svid;
}

/**
 * SPIFFE authorizes by the URI SAN, not the host name: both sides check the peer's SPIFFE ID
 * after chain validation against the bundle (SPIFFE X509-SVID §5).
 */
function handshake(server: Svid, client: { chainPem: string; keyPem: string; bundlePem: string }, expectServerId: string): Promise<{ clientSawServer: string | undefined; serverSawClient: string | undefined }> {
  return new Promise((resolve, reject) => {
    let serverSawClient: string | undefined;
    const tlsServer = tls.createServer({ cert: server.chainPem, key: server.keyPem, ca: server.bundlePem, requestCert: true, rejectUnauthorized: true }, (socket) => {
      serverSawClient = uriSan(socket.getPeerX509Certificate()?.toString() ?? '');
      socket.end('hello');
    });
    tlsServer.on('tlsClientError', () => undefined);
    tlsServer.listen(0, '127.0.0.1', () => {
      const { port } = tlsServer.address() as { port: number };
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        cert: client.chainPem,
        key: client.keyPem,
        ca: client.bundlePem,
        checkServerIdentity: (_host, certificate) => {
          const id = uriSan(new X509Certificate(certificate.raw).toString());
          return id === expectServerId ? undefined : new Error(`unexpected server SPIFFE ID ${id}`);
        },
      });
      socket.on('data', () => {
        const clientSawServer = uriSan(socket.getPeerX509Certificate()?.toString() ?? '');
        socket.end();
        tlsServer.close();
        resolve({ clientSawServer, serverSawClient });
      });
      const refuse = (error: Error): void => {
        tlsServer.close();
        reject(error);
      };
      socket.on('error', refuse);
      // Under TLS 1.3 the server checks the client certificate after the client's handshake
      // completes; a refusal then shows as the connection closing without data.
      socket.on('close', () => refuse(new Error('connection closed before any data')));
    });
  });
}

let harness: Harness;
before(async () => {
  harness = await startTestAgent({
    entries: [
      { spiffeId: 'spiffe://example.org/web', selectors: ['unix:uid:1000'] },
      { spiffeId: 'spiffe://example.org/db', selectors: ['unix:uid:1001'] },
    ],
  });
});
after(async () => {
  await harness.agent.stop();
  await removeTempDirs();
});

test('two workloads complete mutual TLS with the SVIDs they were served, each seeing the other ID', async () => {
  const [web, db] = await Promise.all([svidOf(1000, harness.socketPath), svidOf(1001, harness.socketPath)]);
  const seen = await handshake(db, web, 'spiffe://example.org/db');
  assert.equal(seen.clientSawServer, 'spiffe://example.org/db');
  assert.equal(seen.serverSawClient, 'spiffe://example.org/web');
});

test('a client certificate from another CA is refused', async () => {
  const db = await svidOf(1001, harness.socketPath);
  const dir = harness.dir;
  const made = await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'other.key', '-out', 'other.pem', '-days', '1', '-subj', '/CN=intruder', '-addext', 'subjectAltName=URI:spiffe://example.org/web'], dir);
  assert.ok(made.ok, made.output);
  const intruder = { chainPem: await readFile(path.join(dir, 'other.pem'), 'utf8'), keyPem: await readFile(path.join(dir, 'other.key'), 'utf8'), bundlePem: db.bundlePem };
  await assert.rejects(handshake(db, intruder, 'spiffe://example.org/db'));
});
