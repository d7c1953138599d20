import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeSecret, sdsClient, SECRET_TYPE_URL } from '../support/envoy-protos';
import { openssl } from '../support/openssl';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { securityHeader, StreamReader, workloadClient, type X509BundlesResponse, type X509SvidResponse } from '../support/workload-client';
import { NOT_ROOT } from '../support/workload-process';
import { eventually } from './support/eventually';
import { joinNode, type SpireNodeAgent } from './support/spire-node';
import { SpireServer } from './support/spire-server';
import { needs } from '../support/tools';

const OTHER = 'spiffe://other.org';

/** Reads the stream until `done` holds for a message (bounded; never a timing under test). */
async function until<T>(stream: StreamReader<T>, done: (message: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const message = await stream.next(Math.max(1, deadline - Date.now())).catch((error: unknown) => {
      throw new Error(`no message where ${what}: ${(error as Error).message}`, { cause: error });
    });
    if (done(message)) return message;
  }
}

describe('federated bundles held by the server reach the Workload API and SDS of entries that federate', { skip: NOT_ROOT || needs('spire-server', 'openssl') }, () => {
  let server: SpireServer;
  let node: SpireNodeAgent;
  let foreignDer: Buffer;
  let foreignPem: string;
  before(async () => {
    const dir = await makeTempDir('meshid-spire-server-');
    server = await SpireServer.start({ dir });
    node = await joinNode(server, { downstreamId: 'spiffe://example.org/meshid/node' });
    // Another trust domain's root, registered on the server as its federated bundle.
    const made = await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'other.key', '-out', 'other.pem', '-days', '1', '-subj', '/CN=other.org root', '-addext', `subjectAltName=URI:${OTHER}`, '-addext', 'basicConstraints=critical,CA:TRUE'], dir);
    assert.ok(made.ok, made.output);
    await server.cli('bundle set', '-format', 'pem', '-id', OTHER, '-path', path.join(dir, 'other.pem'));
    foreignPem = await readFile(path.join(dir, 'other.pem'), 'utf8');
    foreignDer = Buffer.from(foreignPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  });
  after(async () => {
    await node?.agent.stop();
    await server?.stop();
    await removeTempDirs();
  });

  test('served while the entry federates with it; gone from the streams once deleted on the server', async () => {
    await server.createEntry({ parentId: node.agentId, spiffeId: 'spiffe://example.org/federating', selectors: ['unix:uid:0'], federatesWith: [OTHER] });
    const client = workloadClient(node.socketPath);
    const svids = await eventually(async () => {
      const stream = new StreamReader<X509SvidResponse>(client.FetchX509SVID({}, securityHeader()));
      try {
        await until(stream, (message) => message.federated_bundles[OTHER] !== undefined, 'the federated bundle is served');
        return stream;
      } catch (error) {
        stream.call.cancel();
        throw error;
      }
    });
    const bundles = new StreamReader<X509BundlesResponse>(client.FetchX509Bundles({}, securityHeader()));
    const first = await until(bundles, () => true, 'the first bundles message');
    assert.deepEqual(Object.keys(first.bundles).sort(), ['spiffe://example.org', OTHER]);
    assert.ok(first.bundles[OTHER]?.equals(foreignDer));

    // SDS: `ALL` carries both trust domains, `spiffe://other.org` the federated one alone.
    const before = await fetchSecrets(node.socketPath, ['ALL', OTHER]);
    assert.ok(before.ALL?.includes(foreignPem) && (before.ALL.match(/BEGIN CERTIFICATE/g)?.length ?? 0) >= 2, before.ALL);
    assert.equal(before[OTHER], foreignPem);

    // Deleting the bundle (dissociating it from entries) removes it from open streams.
    await server.cli('bundle delete', '-id', OTHER, '-mode', 'dissociate');
    await until(svids, (message) => message.federated_bundles[OTHER] === undefined && message.svids.length === 1, 'the federated bundle leaves the SVID stream');
    await until(bundles, (message) => message.bundles[OTHER] === undefined, 'the federated bundle leaves the bundles stream');
    svids.call.cancel();
    bundles.call.cancel();
    const after = await fetchSecrets(node.socketPath, ['ALL']);
    assert.ok(!after.ALL?.includes(foreignPem), after.ALL);
    // Once the server's entry cache drops federatesWith too, the name itself is gone.
    await eventually(() => assert.rejects(fetchSecrets(node.socketPath, [OTHER]), /serves no secret named/));
  });
});

/** SDS FetchSecrets (no Envoy node: plain trusted_ca form) → secret name → PEM roots. */
function fetchSecrets(socketPath: string, names: string[]): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const client = sdsClient(socketPath);
    client.FetchSecrets({ resource_names: names, type_url: SECRET_TYPE_URL }, (error, response) => {
      client.close();
      if (error || !response) return reject(error ?? new Error('no response'));
      const out: Record<string, string> = {};
      for (const resource of response.resources) {
        const secret = decodeSecret(resource);
        out[secret.name] = secret.validation_context?.trusted_ca?.inline_bytes?.toString() ?? '';
      }
      resolve(out);
    });
  });
}
