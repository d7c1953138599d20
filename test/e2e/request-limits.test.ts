import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { REQUEST_LIMITS } from '../../src/serving/request-limits';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { sdsClient, type SdsClient } from '../support/envoy-protos';
import { removeTempDirs } from '../support/temp-dir';
import { callUnary, securityHeader, workloadClient } from '../support/workload-client';
import { SECRET_TYPE_URL } from '../sds/support/official-envoy';
import { deltaRequest, MODERN_ENVOY, StreamJanitor, type OpenStream, type DeltaResponse } from '../sds/support/sds-streams';

const uid = process.getuid?.() ?? 0;
const janitor = new StreamJanitor();

/** Names that mean nothing to meshid: Delta answers them in removed_resources and keeps them subscribed. */
const unknownNames = (from: number, count: number): string[] => Array.from({ length: count }, (_, index) => `flood-${from + index}`);

async function streamError(open: OpenStream<unknown>): Promise<grpc.ServiceError> {
  for (;;) {
    try {
      await open.reader.next();
    } catch (error) {
      return error as grpc.ServiceError;
    }
  }
}

describe('bounded requests (issue 14, findings 3 and 4)', () => {
  let harness: Harness;
  let sds: SdsClient;
  let bystander: OpenStream<DeltaResponse>;
  before(async () => {
    harness = await startTestAgent({ entries: [{ spiffeId: 'spiffe://example.org/sidecar', selectors: [`unix:uid:${uid}`] }] });
    sds = sdsClient(harness.socketPath);
    bystander = janitor.delta(sds);
    bystander.stream.write(deltaRequest({ subscribe: ['default'], node: MODERN_ENVOY }));
    await bystander.reader.next();
  });
  after(async () => {
    janitor.cleanAll();
    sds?.close();
    await harness?.agent.stop();
    await removeTempDirs();
  });

  const bystanderStillServed = async (): Promise<void> => {
    bystander.stream.write(deltaRequest({ subscribe: ['default'] }));
    const response = await bystander.reader.next();
    assert.deepEqual(response.resources.map((resource) => resource.name), ['default']);
  };

  test('a Delta stream subscribing to far more names than the cap is refused early, with bounded memory', async () => {
    const perRequest = REQUEST_LIMITS.maxNamesPerRequest;
    const flood = janitor.delta(sds);
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    // 2,000 requests of 1,024 names were going to follow (2 million names); the stream ends
    // at the first request that would pass maxNamesPerStream.
    const refusedAt = Math.floor(REQUEST_LIMITS.maxNamesPerStream / perRequest) + 1;
    flood.stream.write(deltaRequest({ subscribe: unknownNames(0, perRequest), node: MODERN_ENVOY }));
    for (let request = 1; request < refusedAt + 5; request++) flood.stream.write(deltaRequest({ subscribe: unknownNames(request * perRequest, perRequest) }));
    const error = await streamError(flood);
    assert.equal(error.code, grpc.status.RESOURCE_EXHAUSTED, error.message);
    assert.match(error.details, new RegExp(`subscribed names on this stream: ${refusedAt * perRequest} exceeds the limit of ${REQUEST_LIMITS.maxNamesPerStream}`));
    const grown = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(grown < 64 * 1024 * 1024, `heap grew by ${grown} bytes`);
    await bystanderStillServed();
  });

  test('a name already subscribed does not count twice, and unsubscribing makes room', async () => {
    const open = janitor.delta(sds);
    const cap = REQUEST_LIMITS.maxNamesPerStream;
    const perRequest = REQUEST_LIMITS.maxNamesPerRequest;
    open.stream.write(deltaRequest({ subscribe: unknownNames(0, perRequest), node: MODERN_ENVOY }));
    await open.reader.next();
    for (let from = perRequest; from < cap; from += perRequest) {
      open.stream.write(deltaRequest({ subscribe: unknownNames(from, perRequest) }));
      await open.reader.next();
    }
    open.stream.write(deltaRequest({ subscribe: unknownNames(0, 10) })); // resubscribed: no new names
    await open.reader.next();
    open.stream.write(deltaRequest({ unsubscribe: unknownNames(0, 10), subscribe: ['default'] }));
    const response = await open.reader.next();
    assert.deepEqual(response.resources.map((resource) => resource.name), ['default']);
  });

  test('one request over the per-request cap, or with an over-long name, is refused for that call only', async () => {
    const tooMany = janitor.delta(sds);
    tooMany.stream.write(deltaRequest({ subscribe: unknownNames(0, REQUEST_LIMITS.maxNamesPerRequest + 1), node: MODERN_ENVOY }));
    assert.equal((await streamError(tooMany)).code, grpc.status.RESOURCE_EXHAUSTED);

    const longName = janitor.sotw(sds);
    longName.stream.write({ type_url: SECRET_TYPE_URL, resource_names: ['n'.repeat(REQUEST_LIMITS.maxNameLength + 1)] });
    const error = await streamError(longName);
    assert.equal(error.code, grpc.status.INVALID_ARGUMENT, error.message);

    const sotwTooMany = janitor.sotw(sds);
    sotwTooMany.stream.write({ type_url: SECRET_TYPE_URL, resource_names: unknownNames(0, REQUEST_LIMITS.maxNamesPerRequest + 1) });
    assert.equal((await streamError(sotwTooMany)).code, grpc.status.RESOURCE_EXHAUSTED);

    const fetched = await new Promise<grpc.ServiceError | null>((resolve) => sds.FetchSecrets({ type_url: SECRET_TYPE_URL, resource_names: unknownNames(0, REQUEST_LIMITS.maxNamesPerRequest + 1) }, (err) => resolve(err)));
    assert.equal(fetched?.code, grpc.status.RESOURCE_EXHAUSTED);
    await bystanderStillServed();
  });

  test('FetchJWTSVID with 1.3 million audiences is refused before signing; a token with a few still comes', async () => {
    const client = workloadClient(harness.socketPath);
    try {
      const audiences = Array.from({ length: 1_300_000 }, (_, index) => String(index % 10));
      const error = await callUnary(client.FetchJWTSVID, client, { audience: audiences }, securityHeader()).then(
        () => assert.fail('expected a refusal'),
        (failure: grpc.ServiceError) => failure,
      );
      assert.equal(error.code, grpc.status.RESOURCE_EXHAUSTED, error.message);
      assert.match(error.details, /audience: 1300000 exceeds the limit of 64/);
      // The refusal names the count: the cap caught it before any token was signed (it was 2 s
      // of signing CPU and a 6.9 MB token). How long it takes is bench:floods' business, not a test's.

      const long = await callUnary(client.FetchJWTSVID, client, { audience: ['a'.repeat(REQUEST_LIMITS.maxAudienceLength + 1)] }, securityHeader()).catch((failure: grpc.ServiceError) => failure);
      assert.equal((long as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);
      const ok = await callUnary(client.FetchJWTSVID, client, { audience: ['vault', 'db'] }, securityHeader());
      assert.equal(ok.svids.length, 1);
    } finally {
      client.close();
    }
  });
});
