import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, test } from 'node:test';
import { status, type ClientDuplexStream } from '@grpc/grpc-js';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { decodeSecret, sdsClient, SECRET_TYPE_URL, type DiscoveryResponse, type SdsClient } from '../support/envoy-protos';
import { FakeClock } from '../support/fake-clock';
import { derCertificatesToPem, keyMatchesCertificate, pemBlocks, uriSan } from '../support/pem';
import { removeTempDirs } from '../support/temp-dir';
import { assertNothingSentSotw } from '../sds/support/sds-streams';
import { securityHeader, StreamReader, workloadClient, type X509SvidResponse } from '../support/workload-client';
import { assertReadableBy, clientDependencies, NOT_ROOT, sdsFetchAs } from '../support/workload-process';

const MINUTE = 60_000;
const uid = process.getuid?.() ?? 0;
const ID = 'spiffe://example.org/sidecar';
const OTHER_ID = 'spiffe://example.org/web';
const clock = new FakeClock(Date.now());
let harness: Harness;
let client: SdsClient;
/** Streams and clients to close even when an assertion failed mid-test (else the process hangs). */
const cleanups: (() => void)[] = [];

before(async () => {
  // The other uid's entry comes first, so a handler that ignored the caller would serve it.
  const entries = [
    { spiffeId: OTHER_ID, selectors: ['unix:uid:1000'] },
    { spiffeId: ID, selectors: [`unix:uid:${uid}`] },
  ];
  harness = await startTestAgent({ svid: { ttl: '1h' }, entries }, clock);
  client = sdsClient(harness.socketPath);
});
after(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  client?.close();
  await harness?.agent.stop();
  await removeTempDirs();
});

type Stream = ClientDuplexStream<object, DiscoveryResponse>;
function open(): { stream: Stream; reader: StreamReader<DiscoveryResponse> } {
  const stream = client.StreamSecrets();
  cleanups.push(() => stream.cancel());
  return { stream, reader: new StreamReader<DiscoveryResponse>(stream) };
}
const request = (names: string[], extra: object = {}): object => ({ type_url: SECRET_TYPE_URL, resource_names: names, node: { id: 'sidecar~10.0.0.1', cluster: 'web' }, ...extra });
const ack = (names: string[], response: DiscoveryResponse): object => ({ type_url: SECRET_TYPE_URL, resource_names: names, version_info: response.version_info, response_nonce: response.nonce });
const leafSerial = (response: DiscoveryResponse): string => {
  const secret = decodeSecret(response.resources[0] ?? { type_url: '', value: Buffer.alloc(0) });
  return new X509Certificate(pemBlocks(secret.tls_certificate?.certificate_chain?.inline_bytes?.toString() ?? '')[0] ?? '').serialNumber;
};

test('default and ROOTCA on separate streams, as Envoy opens them, decode with Envoy protos', async () => {
  const tlsStream = open();
  const caStream = open();
  tlsStream.stream.write(request(['default']));
  caStream.stream.write(request(['ROOTCA']));
  const tlsResponse = await tlsStream.reader.next();
  const caResponse = await caStream.reader.next();

  assert.equal(tlsResponse.type_url, SECRET_TYPE_URL);
  assert.ok(tlsResponse.nonce !== '' && tlsResponse.version_info !== '');
  const tlsSecret = decodeSecret(tlsResponse.resources[0] ?? { type_url: '', value: Buffer.alloc(0) });
  assert.equal(tlsResponse.resources.length, 1);
  assert.equal(tlsSecret.name, 'default', 'Envoy filters by Secret.name');
  const chain = pemBlocks(tlsSecret.tls_certificate?.certificate_chain?.inline_bytes?.toString() ?? '');
  assert.equal(chain.length, 2);
  assert.equal(uriSan(chain[0] ?? ''), ID);
  const keyPem = tlsSecret.tls_certificate?.private_key?.inline_bytes?.toString() ?? '';
  assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----/, 'PKCS#8 PEM');
  assert.ok(keyMatchesCertificate(keyPem, chain[0] ?? ''), 'the private key is the leaf certificate\'s');

  const caSecret = decodeSecret(caResponse.resources[0] ?? { type_url: '', value: Buffer.alloc(0) });
  assert.equal(caSecret.name, 'ROOTCA');
  const roots = pemBlocks(caSecret.validation_context?.trusted_ca?.inline_bytes?.toString() ?? '');
  assert.equal(roots.length, 1);
  assert.ok(new X509Certificate(chain[1] ?? '').checkIssued(new X509Certificate(roots[0] ?? '')), 'the intermediate is issued by the served root');
  tlsStream.stream.end();
  caStream.stream.end();
});

test('ACK causes no resend; rotation pushes a new version and nonce to SDS and Workload API streams', async () => {
  const sds = open();
  const { stream, reader } = sds;
  stream.write(request(['default']));
  const first = await reader.next();
  stream.write(ack(['default'], first));

  const workload = workloadClient(harness.socketPath);
  const workloadReader = new StreamReader<X509SvidResponse>(workload.FetchX509SVID({}, securityHeader()));
  cleanups.push(() => {
    workloadReader.call.cancel();
    workload.close();
  });
  const workloadFirst = await workloadReader.next();

  await clock.advance(MINUTE); // well before half-life: nothing changes (advance waits for any mint it starts)
  // The marker adds ROOTCA: from here the stream serves default and ROOTCA.
  const marked = await assertNothingSentSotw(sds, ['default', 'ROOTCA'], first, 'an ACK is not answered and nothing rotated');
  assert.equal(leafSerial(marked), leafSerial(first), 'still the first SVID');
  // The Workload API stream takes no requests to send a marker on: its next message, checked
  // below to be the rotation, is the marker. A message sent meanwhile would be taken instead.

  await clock.advance(40 * MINUTE); // past half-life + max jitter (36 min)
  const pushed = await reader.next();
  assert.notEqual(pushed.version_info, marked.version_info);
  assert.notEqual(pushed.nonce, marked.nonce);
  assert.notEqual(leafSerial(pushed), leafSerial(first), 'a new certificate');
  const workloadPushed = await workloadReader.next();
  const rotated = workloadPushed.svids[0];
  assert.ok(rotated);
  assert.equal(rotated.spiffe_id, ID);
  assert.notDeepEqual(rotated.x509_svid, workloadFirst.svids[0]?.x509_svid);
  const rotatedLeaf = pemBlocks(derCertificatesToPem(rotated.x509_svid))[0] ?? '';
  assert.equal(new X509Certificate(rotatedLeaf).serialNumber, leafSerial(pushed), 'both APIs serve the same current SVID');
  assert.ok(keyMatchesCertificate(rotated.x509_svid_key, rotatedLeaf), 'a new key with the new certificate');

  await assertNothingSentSotw(sds, ['default'], pushed, 'the push is not sent twice');
  stream.end();
  workloadReader.call.cancel();
  workload.close();
});

test('a NACK is not answered with the same content; a stale nonce is ignored; rotation still reaches the stream', async () => {
  const sds = open();
  const { stream, reader } = sds;
  stream.write(request(['default']));
  const first = await reader.next();
  stream.write({ type_url: SECRET_TYPE_URL, resource_names: ['default'], version_info: '', response_nonce: first.nonce, error_detail: { code: 3, message: 'bad certificate' } });
  stream.write({ ...ack(['default', 'ROOTCA'], first), response_nonce: 'not-a-nonce-we-sent' });
  // ROOTCA alone: neither the NACKed names nor the stale request's (a stale request honoured would be answered first).
  const marked = await assertNothingSentSotw(sds, ['ROOTCA'], first, 'neither the NACK nor the stale request is answered');
  const back = await assertNothingSentSotw(sds, ['default'], marked, 'back to default');
  assert.equal(back.version_info, first.version_info, 'the same content has the same version');

  // Reconnect semantics on the same stream: an empty nonce is always answered, names unchanged.
  stream.write(request(['default'], { version_info: first.version_info }));
  const again = await reader.next();
  assert.equal(again.version_info, first.version_info, 'same content, same version');
  assert.notEqual(again.nonce, first.nonce);

  // A NACK does not wedge the stream: the next rotation is pushed with new content.
  stream.write({ type_url: SECRET_TYPE_URL, resource_names: ['default'], version_info: '', response_nonce: again.nonce, error_detail: { code: 3, message: 'still bad' } });
  await clock.advance(40 * MINUTE); // the SVID minted at the previous rotation reaches its half-life
  const pushed = await reader.next();
  assert.notEqual(pushed.version_info, first.version_info);
  assert.notEqual(pushed.nonce, again.nonce);
  assert.notEqual(leafSerial(pushed), leafSerial(first));
  stream.end();
});

test('several names on one stream come back in one response, each named', async () => {
  const { stream, reader } = open();
  stream.write(request(['default', 'ROOTCA', ID, 'spiffe://example.org']));
  const response = await reader.next();
  assert.deepEqual(response.resources.map((resource) => decodeSecret(resource).name), ['default', 'ROOTCA', ID, 'spiffe://example.org']);
  // Changing the names with an ACK gets a response for the new set.
  stream.write(ack(['ROOTCA'], response));
  const narrowed = await reader.next();
  assert.deepEqual(narrowed.resources.map((resource) => decodeSecret(resource).name), ['ROOTCA']);
  stream.end();
});

test('a secret the caller may not have ends the stream with PERMISSION_DENIED naming it', async () => {
  for (const forbidden of ['spiffe://example.org/someone-else', OTHER_ID]) {
    const { stream, reader } = open();
    stream.write(request([forbidden]));
    const error = await reader.failure();
    assert.equal(error.code, status.PERMISSION_DENIED, forbidden);
    assert.ok(error.details.includes(forbidden), `the status names ${forbidden}: ${error.details}`);
  }
});

test('SDS identifies the caller by its kernel credentials: a process under uid 1000 gets its own default', { skip: NOT_ROOT }, async () => {
  await assertReadableBy(1000, clientDependencies());
  const other = await sdsFetchAs(1000, harness.socketPath, ['default', OTHER_ID, 'ROOTCA']);
  assert.deepEqual(other.secrets, [
    { name: 'default', leafId: OTHER_ID },
    { name: OTHER_ID, leafId: OTHER_ID },
    { name: 'ROOTCA', leafId: null },
  ], JSON.stringify(other));
  const denied = await sdsFetchAs(1000, harness.socketPath, [ID]);
  assert.equal(denied.code, status.PERMISSION_DENIED, JSON.stringify(denied));
});

test('a wrong type_url is INVALID_ARGUMENT', async () => {
  const { stream, reader } = open();
  stream.write({ ...request(['default']), type_url: 'type.googleapis.com/envoy.config.cluster.v3.Cluster' });
  const error = await reader.failure();
  assert.equal(error.code, status.INVALID_ARGUMENT);
});

test('FetchSecrets answers once (DeltaSecrets: see sds-delta.test.ts)', async () => {
  const response = await new Promise<DiscoveryResponse>((resolve, reject) =>
    client.FetchSecrets(request(['default']), (error, result) => (error || !result ? reject(error ?? new Error('no response')) : resolve(result))),
  );
  assert.equal(response.nonce, '', 'a unary answer has no nonce to ACK');
  assert.equal(decodeSecret(response.resources[0] ?? { type_url: '', value: Buffer.alloc(0) }).name, 'default');
});
