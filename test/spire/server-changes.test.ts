import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { securityHeader, StreamReader, workloadClient, type X509SvidResponse } from '../support/workload-client';
import { NOT_ROOT } from '../support/workload-process';
import { joinNode, type SpireNodeAgent } from './support/spire-node';
import { SpireServer } from './support/spire-server';
import { needs } from '../support/tools';

/** This test process runs as root: server entries for unix:uid:0 name it. */
const SELF = 'unix:uid:0';

/** DER certificates concatenated (Workload API `bundle`, `x509_svid`), split apart. */
function certificates(der: Buffer): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (let offset = 0; offset < der.length; ) {
    // SEQUENCE with a long-form length (certificates are > 255 bytes): 0x30 0x82 hi lo.
    const length = 4 + der.readUInt16BE(offset + 2);
    out.push(new X509Certificate(der.subarray(offset, offset + length)));
    offset += length;
  }
  return out;
}

/** Reads the stream until `done` holds for a message (bounded; never a timing under test). */
async function until(stream: StreamReader<X509SvidResponse>, done: (message: X509SvidResponse) => boolean, what: string): Promise<X509SvidResponse> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const message = await stream.next(Math.max(1, deadline - Date.now())).catch((error: unknown) => {
      throw new Error(`no message where ${what}: ${(error as Error).message}`, { cause: error });
    });
    if (done(message)) return message;
  }
}

const ids = (message: X509SvidResponse): string[] => message.svids.map((svid) => svid.spiffe_id).sort();

describe('server-side changes reach open Workload API streams', { skip: NOT_ROOT || needs('spire-server') }, () => {
  let server: SpireServer;
  let node: SpireNodeAgent;
  before(async () => {
    // A 40 s server CA: SPIRE prepares its successor at half-life and publishes it in the bundle.
    server = await SpireServer.start({ dir: await makeTempDir('meshid-spire-server-'), caTtl: '40s', svidTtl: '10s' });
    node = await joinNode(server, { downstreamId: 'spiffe://example.org/meshid/node' });
  });
  after(async () => {
    await node?.agent.stop();
    await server?.stop();
    await removeTempDirs();
  });

  test('entries created and deleted on the server, and the server CA rotation, reach an open stream', async () => {
    const first = await server.createEntry({ parentId: node.agentId, spiffeId: 'spiffe://example.org/one', selectors: [SELF] });
    const stream = await openWhenServed(node.socketPath);
    assert.deepEqual(ids(await until(stream, (message) => message.svids.length === 1, 'the first entry is served')), ['spiffe://example.org/one']);

    const second = await server.createEntry({ parentId: node.agentId, spiffeId: 'spiffe://example.org/two', selectors: [SELF] });
    await until(stream, (message) => ids(message).join() === 'spiffe://example.org/one,spiffe://example.org/two', 'the created entry is pushed');
    await server.deleteEntry(first);
    await until(stream, (message) => ids(message).join() === 'spiffe://example.org/two', 'the deleted entry leaves the stream');

    // SPIRE prepares the next CA at half of ca_ttl and adds its root to the bundle before it
    // signs; the node publishes it at once (make-before-break on the server's side).
    const rotated = await until(stream, (message) => certificates(message.svids[0]?.bundle ?? Buffer.alloc(0)).length >= 2, 'the prepared root is in the bundle');
    const roots = certificates(rotated.svids[0]?.bundle ?? Buffer.alloc(0));
    // Every leaf the node serves still chains to a root in the bundle it serves.
    const chain = certificates(rotated.svids[0]?.x509_svid ?? Buffer.alloc(0));
    const top = chain[chain.length - 1];
    assert.ok(top && roots.some((root) => top.verify(root.publicKey)), 'the node intermediate chains to a served root');

    await server.deleteEntry(second);
    // Updates pushed before the deletion arrived (rotations) may come first; then the stream ends.
    const ended = await until(stream, () => false, 'the stream ends').then(
      () => assert.fail('the stream kept going'),
      (error: unknown) => (error as { cause?: { code?: number; details?: string } }).cause,
    );
    assert.equal(ended?.code, 7, ended?.details); // PERMISSION_DENIED once no entry is left
  });
});

/** A FetchX509SVID stream opened once the first entry is served (before that the call is refused). */
async function openWhenServed(socketPath: string): Promise<StreamReader<X509SvidResponse>> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const stream = new StreamReader<X509SvidResponse>(workloadClient(socketPath).FetchX509SVID({}, securityHeader()));
    try {
      await stream.next(5_000);
      return new StreamReader<X509SvidResponse>(workloadClient(socketPath).FetchX509SVID({}, securityHeader()));
    } catch (error) {
      stream.call.cancel();
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
