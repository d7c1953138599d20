import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, test } from 'node:test';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { sdsClient, type DiscoveryResponse, type SdsClient } from '../support/envoy-protos';
import { FakeClock } from '../support/fake-clock';
import { pemBlocks } from '../support/pem';
import { removeTempDirs } from '../support/temp-dir';
import { decodeOfficialSecret, officialRoot, SECRET_TYPE_URL } from '../sds/support/official-envoy';
import { deltaRequest, deltaSecrets, MODERN_ENVOY, StreamJanitor, type DeltaResponse } from '../sds/support/sds-streams';
import { StalledGrpcStream } from '../sds/support/stalled-grpc-stream';

const MINUTE = 60_000;
const uid = process.getuid?.() ?? 0;
const clock = new FakeClock(Date.now());
/** Enough pushes to overflow grpc-js's 16-message write buffer of the stalled stream. */
const ROTATIONS = 24;
let harness: Harness;
let client: SdsClient;
const janitor = new StreamJanitor();

before(async () => {
  harness = await startTestAgent({ svid: { ttl: '1h' }, entries: [{ spiffeId: 'spiffe://example.org/sidecar', selectors: [`unix:uid:${uid}`] }] }, clock);
  client = sdsClient(harness.socketPath);
});
after(async () => {
  janitor.cleanAll();
  client?.close();
  await harness?.agent.stop();
  await removeTempDirs();
});

const serialOf = (chainPem: string | undefined): string => new X509Certificate(pemBlocks(chainPem ?? '')[0] ?? '').serialNumber;

async function currentSerial(): Promise<string> {
  const response = await new Promise<DiscoveryResponse>((resolve, reject) =>
    client.FetchSecrets({ type_url: SECRET_TYPE_URL, resource_names: ['default'] }, (error, result) => (error || !result ? reject(error ?? new Error('no response')) : resolve(result))),
  );
  return serialOf(decodeOfficialSecret(response.resources[0] ?? { type_url: '', value: Buffer.alloc(0) }).tls_certificate?.certificate_chain?.inline_bytes?.toString());
}

const deltaResponseType = () => officialRoot().lookupType('envoy.service.discovery.v3.DeltaDiscoveryResponse');
function stalledSerial(message: Buffer): string {
  const type = deltaResponseType();
  const response = type.toObject(type.decode(message), { defaults: true }) as DeltaResponse;
  return serialOf(deltaSecrets(response).get('default')?.secret.tls_certificate?.certificate_chain?.inline_bytes?.toString());
}

test('a client that stops reading does not delay another stream\'s rotations, and later gets the latest version, not the backlog', async (t) => {
  const requestType = officialRoot().lookupType('envoy.service.discovery.v3.DeltaDiscoveryRequest');
  const stalled = StalledGrpcStream.open(harness.socketPath, '/envoy.service.secret.v3.SecretDiscoveryService/DeltaSecrets');
  janitor.add(() => stalled.close());
  stalled.send(requestType.encode(requestType.fromObject(deltaRequest({ subscribe: ['default'], node: MODERN_ENVOY }))).finish());
  await stalled.responseStarted(); // the server has written its first response, which cannot leave

  const healthy = janitor.delta(client);
  healthy.stream.write(deltaRequest({ subscribe: ['default'], node: MODERN_ENVOY }));
  let latest = await healthy.reader.next();
  healthy.stream.write(deltaRequest({ nonce: latest.nonce }));
  const seenByHealthy = [serialOf(deltaSecrets(latest).get('default')?.secret.tls_certificate?.certificate_chain?.inline_bytes?.toString())];

  for (let round = 1; round <= ROTATIONS; round++) {
    await clock.advance(40 * MINUTE);
    const expected = await currentSerial();
    // The healthy stream receives every new certificate while the other stream is stuck.
    while (seenByHealthy.at(-1) !== expected) {
      latest = await healthy.reader.next();
      healthy.stream.write(deltaRequest({ nonce: latest.nonce }));
      seenByHealthy.push(serialOf(deltaSecrets(latest).get('default')?.secret.tls_certificate?.certificate_chain?.inline_bytes?.toString()));
    }
  }
  assert.equal(stalled.messages.length, 0, 'the stalled client has received nothing so far');

  stalled.resume();
  // A mint started by the last advance may still finish on the thread pool: follow it.
  let expected = await currentSerial();
  for (;;) {
    const awaited = expected;
    await stalled.untilMessage((message) => stalledSerial(message) === awaited);
    expected = await currentSerial();
    if (expected === awaited) break;
  }
  const received = stalled.messages.map(stalledSerial);
  t.diagnostic(`healthy stream: ${seenByHealthy.length} versions; stalled stream after resuming: ${received.length} messages`);
  assert.equal(received.at(-1), expected, 'the stalled client ends on the current certificate');
  // At least ROTATIONS versions were produced (one per round); the stalled stream holds only what
  // its transport buffered before it stopped reading, plus the latest. (The healthy stream's own
  // count depends on scheduling, so it is not the yardstick.)
  assert.ok(received.length < ROTATIONS, `superseded versions were dropped, not queued: ${received.length} of at least ${ROTATIONS} versions`);
  // Each stream renders on its own schedule, so the two may see different intermediate versions;
  // what holds for both is that no version is sent twice.
  assert.equal(new Set(received).size, received.length, 'no certificate sent twice');
});
