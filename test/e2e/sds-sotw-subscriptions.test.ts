import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { sdsClient, type DiscoveryResponse, type SdsClient } from '../support/envoy-protos';
import { FakeClock } from '../support/fake-clock';
import { removeTempDirs } from '../support/temp-dir';
import { decodeOfficialSecret, SECRET_TYPE_URL } from '../sds/support/official-envoy';
import { assertNothingSentSotw, MODERN_ENVOY, StreamJanitor } from '../sds/support/sds-streams';

const MINUTE = 60_000;
const uid = process.getuid?.() ?? 0;
const clock = new FakeClock(Date.now());
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

const names = (response: DiscoveryResponse): string[] => response.resources.map((resource) => decodeOfficialSecret(resource).name);
const ack = (resourceNames: string[], response: DiscoveryResponse): object => ({
  type_url: SECRET_TYPE_URL,
  resource_names: resourceNames,
  version_info: response.version_info,
  response_nonce: response.nonce,
});

test('SotW: an empty name list after explicit names unsubscribes: a response with no resources, then no pushes', async () => {
  const sotw = janitor.sotw(client);
  const { stream, reader } = sotw;
  stream.write({ type_url: SECRET_TYPE_URL, resource_names: ['default', 'ROOTCA'], node: MODERN_ENVOY });
  const first = await reader.next();
  assert.deepEqual(names(first), ['default', 'ROOTCA']);

  stream.write(ack([], first));
  const emptied = await reader.next();
  assert.deepEqual(emptied.resources, []);
  assert.notEqual(emptied.version_info, first.version_info);
  assert.notEqual(emptied.nonce, first.nonce);
  stream.write(ack([], emptied));

  await clock.advance(40 * MINUTE); // the SVID rotates (advance waits for the re-mint); nothing is subscribed any more

  // Subscribing again on the same stream gets the current state, and is the marker.
  await assertNothingSentSotw(sotw, ['default'], emptied, 'a rotation is not pushed to a stream that subscribes to nothing');
  stream.end();
});

test('SotW: the legacy wildcard (first request without names) and "*" select no secret', async () => {
  const legacy = janitor.sotw(client);
  legacy.stream.write({ type_url: SECRET_TYPE_URL, resource_names: [], node: MODERN_ENVOY });
  const answer = await legacy.reader.next();
  assert.deepEqual(answer.resources, [], 'answered, so the caller is not left waiting, with nothing in it');
  assert.notEqual(answer.nonce, '');
  legacy.stream.end();

  const star = janitor.sotw(client);
  star.stream.write({ type_url: SECRET_TYPE_URL, resource_names: ['*', 'ROOTCA'], node: MODERN_ENVOY });
  assert.deepEqual(names(await star.reader.next()), ['ROOTCA']);
  star.stream.end();
});
