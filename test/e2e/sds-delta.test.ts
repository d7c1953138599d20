import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { sdsClient, type SdsClient } from '../support/envoy-protos';
import { FakeClock } from '../support/fake-clock';
import { keyMatchesCertificate, pemBlocks, uriSan } from '../support/pem';
import { removeTempDirs } from '../support/temp-dir';
import { startLoggedAgent, type LoggedHarness } from '../sds/support/logged-agent';
import { SECRET_TYPE_URL } from '../sds/support/official-envoy';
import { assertNothingSentDelta, deltaRequest, deltaSecrets, MODERN_ENVOY, StreamJanitor, type DeltaResponse } from '../sds/support/sds-streams';

const MINUTE = 60_000;
const uid = process.getuid?.() ?? 0;
const ID = 'spiffe://example.org/sidecar';
const OTHER_ID = 'spiffe://example.org/web';
const clock = new FakeClock(Date.now());
let harness: LoggedHarness;
let client: SdsClient;
const janitor = new StreamJanitor();

before(async () => {
  const entries = [
    { spiffeId: OTHER_ID, selectors: ['unix:uid:1000'] },
    { spiffeId: ID, selectors: [`unix:uid:${uid}`] },
  ];
  harness = await startLoggedAgent({ svid: { ttl: '1h' }, entries }, clock);
  client = sdsClient(harness.socketPath);
});
after(async () => {
  janitor.cleanAll();
  client?.close();
  await harness?.agent.stop();
  await removeTempDirs();
});

const ROTATE = 40 * MINUTE; // past half-life of a 1h SVID plus the largest jitter (36 min)
const ack = (response: DeltaResponse): object => deltaRequest({ nonce: response.nonce });
const leafOf = (response: DeltaResponse, name: string): X509Certificate => {
  const chain = deltaSecrets(response).get(name)?.secret.tls_certificate?.certificate_chain?.inline_bytes?.toString() ?? '';
  return new X509Certificate(pemBlocks(chain)[0] ?? '');
};

test('Delta: each subscribed name comes back as a Resource (name, version, Secret Any) with a fresh nonce; an ACK is not answered', async () => {
  const open = janitor.delta(client);
  const { stream, reader } = open;
  stream.write(deltaRequest({ subscribe: ['default'], node: MODERN_ENVOY }));
  const first = await reader.next();
  assert.equal(first.type_url, SECRET_TYPE_URL);
  assert.notEqual(first.nonce, '');
  assert.notEqual(first.system_version_info, '');
  assert.deepEqual(first.removed_resources, []);
  assert.deepEqual(first.resources.map((resource) => resource.name), ['default']);
  const secret = deltaSecrets(first).get('default')?.secret;
  const chain = pemBlocks(secret?.tls_certificate?.certificate_chain?.inline_bytes?.toString() ?? '');
  assert.equal(uriSan(chain[0] ?? ''), ID);
  assert.ok(keyMatchesCertificate(secret?.tls_certificate?.private_key?.inline_bytes?.toString() ?? '', chain[0] ?? ''));

  stream.write(ack(first));
  await assertNothingSentDelta(open, 'an ACK is not answered');

  // A spontaneous subscription (no nonce) gets only the new name, not the one already held.
  stream.write(deltaRequest({ subscribe: ['ROOTCA'] }));
  const second = await reader.next();
  assert.deepEqual(second.resources.map((resource) => resource.name), ['ROOTCA']);
  assert.notEqual(second.nonce, first.nonce);
  assert.ok(deltaSecrets(second).get('ROOTCA')?.secret.validation_context?.trusted_ca?.inline_bytes);
  stream.end();
});

test('Delta: rotation pushes a new version of each subscribed name only; an unsubscribed name is not pushed', async () => {
  const open = janitor.delta(client);
  const { stream, reader } = open;
  stream.write(deltaRequest({ subscribe: ['default', ID], node: MODERN_ENVOY }));
  const first = await reader.next();
  assert.deepEqual(first.resources.map((resource) => resource.name).sort(), ['default', ID].sort());
  stream.write(ack(first));
  stream.write(deltaRequest({ unsubscribe: [ID] }));
  await assertNothingSentDelta(open, 'an unsubscription needs no response');

  await clock.advance(ROTATE);
  const pushed = await reader.next();
  assert.deepEqual(pushed.resources.map((resource) => resource.name), ['default'], 'only the still-subscribed name');
  assert.deepEqual(pushed.removed_resources, []);
  assert.notEqual(pushed.nonce, first.nonce);
  const before = deltaSecrets(first).get('default');
  const now = deltaSecrets(pushed).get('default');
  assert.notEqual(now?.version, before?.version);
  assert.notEqual(leafOf(pushed, 'default').serialNumber, leafOf(first, 'default').serialNumber, 'a new certificate');
  stream.write(ack(pushed));
  await assertNothingSentDelta(open, 'the ACK of a push is not answered');

  // Subscribing again later gets the current version of the name, with the same content as default.
  stream.write(deltaRequest({ subscribe: [ID] }));
  const again = await reader.next();
  assert.deepEqual(again.resources.map((resource) => resource.name), [ID]);
  assert.equal(leafOf(again, ID).serialNumber, leafOf(pushed, 'default').serialNumber);
  stream.end();
});

test('Delta: initial_resource_versions at the current version are not resent; other versions are; a re-subscribe resends', async () => {
  const { stream: probe, reader: probeReader } = janitor.delta(client);
  probe.write(deltaRequest({ subscribe: ['default', 'ROOTCA'], node: MODERN_ENVOY }));
  const current = deltaSecrets(await probeReader.next());
  const defaultVersion = current.get('default')?.version ?? '';
  const rootVersion = current.get('ROOTCA')?.version ?? '';
  probe.end();

  // A reconnecting Envoy that holds default at the current version and ROOTCA at an old one.
  const partly = janitor.delta(client);
  partly.stream.write(deltaRequest({ subscribe: ['default', 'ROOTCA'], initial: { default: defaultVersion, ROOTCA: 'an-old-version' }, node: MODERN_ENVOY }));
  const refreshed = await partly.reader.next();
  assert.deepEqual(refreshed.resources.map((resource) => resource.name), ['ROOTCA']);
  assert.equal(refreshed.resources[0]?.version, rootVersion, 'versions are content hashes: the same on every stream');
  partly.stream.write(ack(refreshed));
  await assertNothingSentDelta(partly, 'default, held at the current version, is not sent afterwards either');
  partly.stream.end();

  // One that holds both at the current versions gets nothing, until it subscribes again.
  const upToDate = janitor.delta(client);
  upToDate.stream.write(deltaRequest({ subscribe: ['default', 'ROOTCA'], initial: { default: defaultVersion, ROOTCA: rootVersion }, node: MODERN_ENVOY }));
  await assertNothingSentDelta(upToDate, 'nothing the client does not already have');
  upToDate.stream.write(deltaRequest({ subscribe: ['default'] }));
  const resent = await upToDate.reader.next();
  assert.deepEqual(resent.resources.map((resource) => [resource.name, resource.version]), [['default', defaultVersion]], 'the spec: a client may have forgotten it');
  upToDate.stream.end();
});

test('Delta: a NACK is logged with its reason and the rejected version is not resent; the next rotation is', async () => {
  const open = janitor.delta(client);
  const { stream, reader } = open;
  stream.write(deltaRequest({ subscribe: ['default'], node: MODERN_ENVOY }));
  const first = await reader.next();
  const rejectedVersion = first.resources[0]?.version ?? '';
  stream.write(deltaRequest({ nonce: first.nonce, error: 'certificate chain rejected: test reason 7431' }));
  await assertNothingSentDelta(open, 'the same version is not sent again');
  const nack = harness.logs.find((record) => String(record.msg).includes('NACK') && String(record.reason).includes('test reason 7431'));
  assert.ok(nack, `a NACK log record with the reason: ${JSON.stringify(harness.logs)}`);
  assert.deepEqual(nack.rejected, [`default@${rejectedVersion}`]);
  assert.ok(!JSON.stringify(nack).includes('PRIVATE KEY'), 'no key material in the log');

  await clock.advance(ROTATE);
  const pushed = await reader.next();
  assert.notEqual(pushed.resources[0]?.version, rejectedVersion);
  stream.end();
});

test('Delta: names that do not exist are answered in removed_resources, once; the stream keeps serving', async () => {
  const { stream, reader } = janitor.delta(client);
  const missing = ['spiffe://other.org', 'not-a-secret-name', 'spiffe://Example.org/x'];
  stream.write(deltaRequest({ subscribe: missing, node: MODERN_ENVOY }));
  const answer = await reader.next();
  assert.deepEqual(answer.resources, []);
  assert.deepEqual([...answer.removed_resources].sort(), [...missing].sort());
  stream.write(ack(answer));

  stream.write(deltaRequest({ subscribe: ['default'] }));
  const served = await reader.next();
  assert.deepEqual(served.resources.map((resource) => resource.name), ['default']);
  assert.deepEqual(served.removed_resources, [], 'absent names are not repeated');
  stream.write(ack(served));

  // A reconnecting client claiming a version of a name that does not exist is told it does not.
  const reconnected = janitor.delta(client);
  reconnected.stream.write(deltaRequest({ subscribe: ['spiffe://other.org'], initial: { 'spiffe://other.org': 'v1' } }));
  assert.deepEqual((await reconnected.reader.next()).removed_resources, ['spiffe://other.org']);
  reconnected.stream.end();
  stream.end();
});

test('Delta: a SPIFFE ID the caller does not hold is answered in removed_resources and logged at warn; the stream keeps serving its good names', async () => {
  // xDS "Knowing When a Requested Resource Does Not Exist": the incremental variant reports it in
  // removed_resources; a Delta stream multiplexes names, so one refused name must not end it.
  const { stream, reader } = janitor.delta(client);
  stream.write(deltaRequest({ subscribe: ['default'], node: MODERN_ENVOY }));
  let latest = await reader.next();
  let serial = leafOf(latest, 'default').serialNumber;
  stream.write(ack(latest));
  /** The next response matching `wanted`; a rotation of `default` pushed meanwhile (an earlier test's clock) is ACKed and skipped. */
  const nextWhere = async (wanted: (response: DeltaResponse) => boolean): Promise<DeltaResponse> => {
    for (;;) {
      latest = await reader.next();
      stream.write(ack(latest));
      if (wanted(latest)) return latest;
      assert.deepEqual(latest.removed_resources, [], 'nothing else is removed');
      assert.deepEqual(latest.resources.map((resource) => resource.name), ['default'], 'only default is pushed');
      serial = leafOf(latest, 'default').serialNumber;
    }
  };
  for (const forbidden of [OTHER_ID, 'spiffe://example.org/nobody', 'spiffe://other.org/web']) {
    stream.write(deltaRequest({ subscribe: [forbidden] }));
    const refused = await nextWhere((response) => response.removed_resources.length > 0);
    assert.deepEqual(refused.removed_resources, [forbidden]);
    assert.deepEqual(refused.resources, []);
    const warning = harness.logs.find((record) => record['level'] === 40 && String(record['secret']).includes(forbidden));
    assert.ok(warning, `a warning names ${forbidden}`);
    assert.match(String(warning['msg']), /does not hold/);
  }

  // The good name still rotates on this stream.
  const before = serial;
  await clock.advance(ROTATE);
  const rotated = await nextWhere((response) => response.resources.some((resource) => resource.name === 'default') && leafOf(response, 'default').serialNumber !== before);
  assert.deepEqual(rotated.removed_resources, []);
  stream.end();
});

test('Delta: a wildcard selects no secret; unsubscribing a name while it is on answers removed_resources', async () => {
  // Legacy wildcard: the first request names nothing.
  const legacy = janitor.delta(client);
  legacy.stream.write(deltaRequest({ node: MODERN_ENVOY }));
  await assertNothingSentDelta(legacy, 'no secret is selected by a wildcard');
  legacy.stream.write(deltaRequest({ subscribe: ['default'] }));
  const served = await legacy.reader.next();
  assert.deepEqual(served.resources.map((resource) => resource.name), ['default']);
  legacy.stream.write(ack(served));
  legacy.stream.write(deltaRequest({ unsubscribe: ['default'] }));
  const removed = await legacy.reader.next();
  assert.deepEqual(removed.removed_resources, ['default'], 'xDS: with a wildcard, an unsubscribed name must be answered');
  assert.deepEqual(removed.resources, []);
  legacy.stream.end();

  // Explicit "*" with a name; once "*" is dropped, unsubscribing needs no answer.
  const explicit = janitor.delta(client);
  explicit.stream.write(deltaRequest({ subscribe: ['*', 'ROOTCA'], node: MODERN_ENVOY }));
  const rootOnly = await explicit.reader.next();
  assert.deepEqual(rootOnly.resources.map((resource) => resource.name), ['ROOTCA']);
  explicit.stream.write(ack(rootOnly));
  explicit.stream.write(deltaRequest({ unsubscribe: ['*'] }));
  explicit.stream.write(deltaRequest({ unsubscribe: ['ROOTCA'] }));
  await assertNothingSentDelta(explicit, 'with "*" dropped, an unsubscription needs no response');
  explicit.stream.end();
});

test('Delta: an empty type_url is this service\'s type; another type_url is INVALID_ARGUMENT', async () => {
  const plain = janitor.delta(client);
  plain.stream.write({ ...deltaRequest({ subscribe: ['ROOTCA'] }), type_url: '' });
  assert.deepEqual((await plain.reader.next()).resources.map((resource) => resource.name), ['ROOTCA']);
  plain.stream.end();

  const { stream, reader } = janitor.delta(client);
  stream.write(deltaRequest({ subscribe: ['default'], typeUrl: 'type.googleapis.com/envoy.config.cluster.v3.Cluster' }));
  const error = await reader.failure();
  assert.equal(error.code, status.INVALID_ARGUMENT);
  assert.match(error.details, /type_url/);
});
