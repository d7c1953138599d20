import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { REQUEST_LIMITS } from '../../src/serving/request-limits';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { sdsClient, type DiscoveryResponse, type SdsClient } from '../support/envoy-protos';
import { removeTempDirs } from '../support/temp-dir';
import { StreamReader } from '../support/workload-client';
import { SECRET_TYPE_URL } from '../sds/support/official-envoy';
import { deltaRequest, MODERN_ENVOY, StreamJanitor, type DeltaResponse, type OpenStream } from '../sds/support/sds-streams';

const uid = process.getuid?.() ?? 0;
/** src/agent/grpc-server.ts sets grpc.max_receive_message_length to 4 MiB. */
const SERVER_RECEIVE_LIMIT = 4 * 1024 * 1024;
let harness: Harness;
let client: SdsClient;
let bystander: OpenStream<DeltaResponse>;
const janitor = new StreamJanitor();

before(async () => {
  harness = await startTestAgent({ entries: [{ spiffeId: 'spiffe://example.org/sidecar', selectors: [`unix:uid:${uid}`] }] });
  client = sdsClient(harness.socketPath);
  // A well-behaved stream on the same connection, open through every malformed call below.
  bystander = janitor.delta(client);
  bystander.stream.write(deltaRequest({ subscribe: ['default'], node: MODERN_ENVOY }));
  await bystander.reader.next();
});
after(async () => {
  janitor.cleanAll();
  client?.close();
  await harness?.agent.stop();
  await removeTempDirs();
});

/** The bystander still gets answers: subscribing again to a name resends it (xDS). */
async function bystanderStillServed(): Promise<void> {
  bystander.stream.write(deltaRequest({ subscribe: ['default'] }));
  const response = await bystander.reader.next();
  assert.deepEqual(response.resources.map((resource) => resource.name), ['default']);
}

function fetchError(request: object): Promise<grpc.ServiceError> {
  return new Promise((resolve, reject) =>
    client.FetchSecrets(request, (error) => (error ? resolve(error) : reject(new Error('expected FetchSecrets to fail')))),
  );
}

test('a request over the server\'s 4 MiB receive limit ends that call with RESOURCE_EXHAUSTED (SotW, Delta, Fetch); other streams go on', async () => {
  const hugeName = 'n'.repeat(SERVER_RECEIVE_LIMIT + 1024);
  const sotw = janitor.sotw(client);
  sotw.stream.write({ type_url: SECRET_TYPE_URL, resource_names: [hugeName] });
  assert.equal((await sotw.reader.failure()).code, grpc.status.RESOURCE_EXHAUSTED);

  const delta = janitor.delta(client);
  delta.stream.write(deltaRequest({ subscribe: [hugeName] }));
  assert.equal((await delta.reader.failure()).code, grpc.status.RESOURCE_EXHAUSTED);

  assert.equal((await fetchError({ type_url: SECRET_TYPE_URL, resource_names: [hugeName] })).code, grpc.status.RESOURCE_EXHAUSTED);
  await bystanderStillServed();

  // Just under the limit is read, and refused by the name-length cap (src/serving/request-limits.ts).
  const nearLimit = janitor.delta(client);
  nearLimit.stream.write(deltaRequest({ subscribe: ['n'.repeat(SERVER_RECEIVE_LIMIT - 1024)] }));
  assert.equal((await nearLimit.reader.failure()).code, grpc.status.INVALID_ARGUMENT);
});

test('bytes that are not a DiscoveryRequest end that call with INTERNAL (grpc-js cannot deserialize them); other streams go on', async () => {
  const garbage = Buffer.from([0x0f]); // field 1 with wire type 7, which protobuf does not define
  const raw = new grpc.Client(`unix:${harness.socketPath}`, grpc.credentials.createInsecure());
  janitor.add(() => raw.close());
  for (const method of ['StreamSecrets', 'DeltaSecrets']) {
    const call = raw.makeBidiStreamRequest(`/envoy.service.secret.v3.SecretDiscoveryService/${method}`, (bytes: Buffer) => bytes, (bytes: Buffer) => bytes);
    janitor.add(() => call.cancel());
    const reader = new StreamReader<Buffer>(call);
    call.write(garbage);
    const error = await reader.failure();
    assert.equal(error.code, grpc.status.INTERNAL, method);
    assert.match(error.details, /deserializ/i, method);
  }
  await bystanderStillServed();
});

test('a type_url other than Secret is INVALID_ARGUMENT (SotW, Delta, Fetch); other streams go on', async () => {
  const clusterType = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
  const sotw = janitor.sotw(client);
  sotw.stream.write({ type_url: clusterType, resource_names: ['default'] });
  assert.equal((await sotw.reader.failure()).code, grpc.status.INVALID_ARGUMENT);

  // Also on a later message of a stream that started well.
  const delta = janitor.delta(client);
  delta.stream.write(deltaRequest({ subscribe: ['ROOTCA'] }));
  await delta.reader.next();
  delta.stream.write(deltaRequest({ subscribe: ['default'], typeUrl: clusterType }));
  assert.equal((await delta.reader.failure()).code, grpc.status.INVALID_ARGUMENT);

  assert.equal((await fetchError({ type_url: clusterType, resource_names: ['default'] })).code, grpc.status.INVALID_ARGUMENT);
  await bystanderStillServed();
});

test('garbage resource names: SotW and Fetch end with PERMISSION_DENIED naming the name (quoted, cut short); Delta answers removed_resources', async () => {
  const garbageNames = ['', '../../etc/passwd', 'default\u0000', 'spiffe://', 'spiffe://example.org/a//b', 'x'.repeat(REQUEST_LIMITS.maxNameLength)];
  for (const name of garbageNames) {
    const label = JSON.stringify(name.slice(0, 30));
    const sotw = janitor.sotw(client);
    sotw.stream.write({ type_url: SECRET_TYPE_URL, resource_names: ['ROOTCA', name] });
    const error = await sotw.reader.failure();
    assert.equal(error.code, grpc.status.PERMISSION_DENIED, label);
    assert.ok(error.details.includes(JSON.stringify(name.slice(0, 30)).slice(0, -1)), `${label}: ${error.details.slice(0, 120)}`);
    assert.ok(error.details.length < 400, `${label}: the status does not echo a huge name`);

    const fetched = await fetchError({ type_url: SECRET_TYPE_URL, resource_names: [name] });
    assert.equal(fetched.code, grpc.status.PERMISSION_DENIED, label);
  }

  const delta = janitor.delta(client);
  delta.stream.write(deltaRequest({ subscribe: garbageNames }));
  const answer = await delta.reader.next();
  assert.deepEqual(answer.resources, []);
  assert.deepEqual([...answer.removed_resources].sort(), [...garbageNames].sort());
  delta.stream.end();
  await bystanderStillServed();

  // A fresh connection is served as well.
  const fresh = sdsClient(harness.socketPath);
  janitor.add(() => fresh.close());
  const response = await new Promise<DiscoveryResponse>((resolve, reject) =>
    fresh.FetchSecrets({ type_url: SECRET_TYPE_URL, resource_names: ['ROOTCA'] }, (error, result) => (error || !result ? reject(error ?? new Error('no response')) : resolve(result))),
  );
  assert.equal(response.resources.length, 1);
});
