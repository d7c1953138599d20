import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { sdsClient, type DiscoveryResponse, type SdsClient } from '../support/envoy-protos';
import { removeTempDirs } from '../support/temp-dir';
import { assertReadableBy, clientDependencies, NOT_ROOT, sdsFetchAs } from '../support/workload-process';
import { SECRET_TYPE_URL } from '../sds/support/official-envoy';
import { deltaRequest, MODERN_ENVOY, StreamJanitor, type DeltaResponse, type OpenStream } from '../sds/support/sds-streams';

// Per-caller caps (issue 14, "total subscriptions per caller"): one uid may not multiply the
// per-stream caps by opening more streams. The shipped caps (REQUEST_LIMITS.maxStreamsPerUid,
// maxSubscriptionsPerUid) are thousands; this agent runs with small ones so that a few real
// grpc-js streams reach them. The counting is the same code (serving/caller-budget.ts).
const MAX_STREAMS = 6;
const MAX_SUBSCRIPTIONS = 40;
const uid = process.getuid?.() ?? 0;
const OTHER_UID = 1000;

/** Names that mean nothing to meshid: Delta answers them in removed_resources and keeps them subscribed. */
const unknownNames = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, index) => `${prefix}-${index}`);

describe('per-caller caps on SDS streams and subscriptions (issue 14)', () => {
  let harness: Harness;
  let sds: SdsClient;
  let janitor = new StreamJanitor();
  before(async () => {
    if (!NOT_ROOT) await assertReadableBy(OTHER_UID, clientDependencies());
    harness = await startTestAgent(
      {
        entries: [
          { spiffeId: 'spiffe://example.org/sidecar', selectors: [`unix:uid:${uid}`] },
          { spiffeId: 'spiffe://example.org/other', selectors: [`unix:uid:${OTHER_UID}`] },
        ],
      },
      undefined,
      { callerLimits: { maxStreamsPerUid: MAX_STREAMS, maxSubscriptionsPerUid: MAX_SUBSCRIPTIONS } },
    );
    sds = sdsClient(harness.socketPath);
  });
  afterEach(async () => {
    janitor.cleanAll();
    await budgetFree();
  });
  after(async () => {
    janitor.cleanAll();
    sds?.close();
    await harness?.agent.stop();
    await removeTempDirs();
  });

  /** A SotW stream served `default`: it holds one stream and one subscription. */
  const sotwServed = async (): Promise<OpenStream<DiscoveryResponse>> => {
    const open = janitor.sotw(sds);
    open.stream.write({ type_url: SECRET_TYPE_URL, resource_names: ['default'], node: MODERN_ENVOY });
    const response = await open.reader.next();
    assert.equal(response.resources.length, 1);
    return open;
  };

  /** A Delta stream with `names` subscribed, each answered (as a secret, or in removed_resources). */
  const deltaHolding = async (names: string[]): Promise<OpenStream<DeltaResponse>> => {
    const open = janitor.delta(sds);
    open.stream.write(deltaRequest({ subscribe: names, node: MODERN_ENVOY }));
    const response = await open.reader.next();
    assert.deepEqual([...response.resources.map((resource) => resource.name), ...response.removed_resources].sort(), [...names].sort());
    return open;
  };

  /**
   * Waits until the whole budget of this uid is free again: cancelled streams give theirs back
   * when the agent sees the RST_STREAM, a moment after the client cancels. Probes with one
   * Delta stream holding every subscription the cap allows, which only passes when nothing is
   * held; a leak makes it fail (bounded wait). The probe then asks for one name more: the agent
   * ends it, and gives its share back before the status is sent, so the budget is free on return.
   */
  async function budgetFree(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new StreamJanitor();
      const open = probe.delta(sds);
      open.stream.write(deltaRequest({ subscribe: unknownNames('probe', MAX_SUBSCRIPTIONS), node: MODERN_ENVOY }));
      try {
        await open.reader.next();
        open.stream.write(deltaRequest({ subscribe: ['probe-over'] }));
        const refusal = await open.reader.failure();
        assert.equal(refusal.code, grpc.status.RESOURCE_EXHAUSTED, refusal.message);
        return;
      } catch (error) {
        if ((error as grpc.ServiceError).code !== grpc.status.RESOURCE_EXHAUSTED || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20));
      } finally {
        probe.cleanAll();
      }
    }
  }

  test('the stream past the cap is refused RESOURCE_EXHAUSTED; the open ones, and FetchSecrets, are still served', async () => {
    janitor = new StreamJanitor();
    const held = [];
    for (let index = 0; index < MAX_STREAMS / 2; index++) held.push(await sotwServed(), await deltaHolding(['default']));

    const refused = janitor.delta(sds);
    refused.stream.write(deltaRequest({ subscribe: ['default'], node: MODERN_ENVOY }));
    const error = await refused.reader.failure();
    assert.equal(error.code, grpc.status.RESOURCE_EXHAUSTED, error.message);
    assert.match(error.details, new RegExp(`open SDS streams of this caller \\(uid ${uid}\\): ${MAX_STREAMS + 1} exceeds the limit of ${MAX_STREAMS}`));
    const sotwRefused = janitor.sotw(sds);
    sotwRefused.stream.write({ type_url: SECRET_TYPE_URL, resource_names: ['default'], node: MODERN_ENVOY });
    assert.equal((await sotwRefused.reader.failure()).code, grpc.status.RESOURCE_EXHAUSTED);

    // The streams already open are untouched: a held Delta stream still answers.
    const delta = held[1] as OpenStream<DeltaResponse>;
    delta.stream.write(deltaRequest({ subscribe: ['ROOTCA'] }));
    assert.deepEqual((await delta.reader.next()).resources.map((resource) => resource.name), ['ROOTCA']);

    // FetchSecrets opens no stream: not counted, still answered.
    const fetched = await new Promise<DiscoveryResponse>((resolve, reject) => sds.FetchSecrets({ type_url: SECRET_TYPE_URL, resource_names: ['default'] }, (err, response) => (err ? reject(err) : resolve(response as DiscoveryResponse))));
    assert.equal(fetched.resources.length, 1);
  });

  test('another uid has its own budget while this one is at its cap', { skip: NOT_ROOT }, async () => {
    janitor = new StreamJanitor();
    for (let index = 0; index < MAX_STREAMS; index++) await sotwServed();
    const own = janitor.sotw(sds);
    own.stream.write({ type_url: SECRET_TYPE_URL, resource_names: ['default'], node: MODERN_ENVOY });
    assert.equal((await own.reader.failure()).code, grpc.status.RESOURCE_EXHAUSTED);
    const other = await sdsFetchAs(OTHER_UID, harness.socketPath, ['default']);
    assert.deepEqual(other.secrets, [{ name: 'default', leafId: 'spiffe://example.org/other' }], JSON.stringify(other));
  });

  test('subscriptions are summed over the caller\'s streams; the one request past the cap ends its stream only', async () => {
    janitor = new StreamJanitor();
    const first = await deltaHolding(unknownNames('a', 30));
    const second = await deltaHolding(unknownNames('b', 10)); // 40: the cap, allowed
    second.stream.write(deltaRequest({ subscribe: ['b-extra'] }));
    const error = await second.reader.failure();
    assert.equal(error.code, grpc.status.RESOURCE_EXHAUSTED, error.message);
    assert.match(error.details, new RegExp(`subscribed names across the SDS streams of this caller \\(uid ${uid}\\): ${MAX_SUBSCRIPTIONS + 1} exceeds the limit of ${MAX_SUBSCRIPTIONS}`));

    // The refused stream ended and gave its 10 back before its status was sent: they fit at once.
    const third = await deltaHolding(unknownNames('c', 10));
    // Re-subscribing held names, and replacing names one for one, add nothing.
    first.stream.write(deltaRequest({ subscribe: unknownNames('a', 5) }));
    await first.reader.next();
    first.stream.write(deltaRequest({ unsubscribe: unknownNames('a', 1), subscribe: ['default'] }));
    assert.deepEqual((await first.reader.next()).resources.map((resource) => resource.name), ['default']);
    // SotW counts its names too: 40 held, so one more name is refused.
    const sotw = janitor.sotw(sds);
    sotw.stream.write({ type_url: SECRET_TYPE_URL, resource_names: ['ROOTCA'], node: MODERN_ENVOY });
    assert.equal((await sotw.reader.failure()).code, grpc.status.RESOURCE_EXHAUSTED);
    // Unsubscribing makes room for another stream: 2 names out, 1 in (answered as absent).
    third.stream.write(deltaRequest({ unsubscribe: unknownNames('c', 2), subscribe: ['c-new'] }));
    assert.deepEqual((await third.reader.next()).removed_resources, ['c-new']);
    await sotwServed();
  });

  test('closing streams gives their streams and subscriptions back (no leak)', async () => {
    for (let round = 0; round < 3; round++) {
      janitor = new StreamJanitor();
      for (let index = 0; index < MAX_STREAMS - 1; index++) await sotwServed();
      const last = await deltaHolding(unknownNames(`r${round}`, MAX_SUBSCRIPTIONS - (MAX_STREAMS - 1)));
      last.stream.write(deltaRequest({ subscribe: ['one-more'] }));
      assert.equal((await last.reader.failure()).code, grpc.status.RESOURCE_EXHAUSTED);
      janitor.cleanAll();
      // Every stream and subscription is free again, or budgetFree gives up.
      await budgetFree();
    }
  });
});
