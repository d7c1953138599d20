import assert from 'node:assert/strict';
import path from 'node:path';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { parseConfig } from '../../src/agent/config/load';
import { isMeshidError } from '../../src/common/errors';
import { NodeCa } from '../../src/rotation/node-ca';
import { SvidStore } from '../../src/rotation/svid-store';
import { DeltaSecretStream } from '../../src/sds/delta-secret-stream';
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryResponse } from '../../src/sds/messages';
import { SecretStream } from '../../src/sds/secret-stream';
import { loadConfiguredUpstream } from '../../src/agent/configured-upstream';
import { FakeClock } from '../support/fake-clock';
import { pemBlocks, uriSan } from '../support/pem';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { decodeOfficialSecret, SECRET_TYPE_URL } from './support/official-envoy';

// The handlers against a real store and CA, writing to an in-memory object stream. In the agent,
// serveDiscoveryStream (serve-stream.ts) calls updateEntries when the registration changes; here
// the test calls it directly (test/e2e/sds-entries-change.test.ts covers the wiring).
const logger = pino({ level: 'silent' });
const web = { spiffeId: 'spiffe://example.org/web', selectors: ['unix:uid:1000'], dnsNames: [] };
const api = { spiffeId: 'spiffe://example.org/api', selectors: ['unix:uid:1000'], dnsNames: [] };
const clock = new FakeClock(Date.now());
let store: SvidStore;
let ca: NodeCa;

before(async () => {
  const dir = await makeTempDir('meshid-sds-');
  const config = parseConfig({ trustDomain: 'example.org', dataDir: path.join(dir, 'data'), socketPath: path.join(dir, 'a.sock') }, { baseDir: dir });
  ca = new NodeCa({ upstream: await loadConfiguredUpstream(config, new Date(clock.now())), trustDomain: 'example.org', caTtlMs: config.ca.ttlMs, leafKeyType: 'ec-p256', clock, logger });
  await ca.start();
  store = new SvidStore({ ca, svidTtlMs: config.svid.ttlMs, clock, logger });
});
after(async () => {
  store?.stop();
  ca?.stop();
  await removeTempDirs();
});

/** The next message the handler writes (bounded, so a handler that writes nothing fails the test). */
async function nextMessage<T>(stream: PassThrough): Promise<T> {
  for (;;) {
    const message = stream.read() as T | null;
    if (message !== null) return message;
    await once(stream, 'readable', { signal: AbortSignal.timeout(5_000) });
  }
}

const delta = (subscribe: string[], unsubscribe: string[] = []): DeltaDiscoveryRequest => ({
  type_url: SECRET_TYPE_URL,
  resource_names_subscribe: subscribe,
  resource_names_unsubscribe: unsubscribe,
  initial_resource_versions: {},
  response_nonce: '',
  node: null,
  error_detail: null,
});
const leafId = (resource: { type_url: string; value: Buffer }): string | undefined =>
  uriSan(pemBlocks(decodeOfficialSecret(resource).tls_certificate?.certificate_chain?.inline_bytes?.toString() ?? '')[0] ?? '');

test('Delta: a name the registration withdraws is answered in removed_resources; default follows the new first entry; a re-grant sends it again', async () => {
  const out = new PassThrough({ objectMode: true });
  const errors: unknown[] = [];
  const stream = new DeltaSecretStream({ sink: out, store, trustDomain: 'example.org', logger, onError: (error) => errors.push(error) }, [web, api]);
  stream.handle(delta(['default', api.spiffeId]));
  const first = await nextMessage<DeltaDiscoveryResponse>(out);
  assert.deepEqual(new Map(first.resources.map((resource) => [resource.name, leafId(resource.resource)])), new Map([['default', web.spiffeId], [api.spiffeId, api.spiffeId]]));

  stream.updateEntries([web]);
  const withdrawn = await nextMessage<DeltaDiscoveryResponse>(out);
  assert.deepEqual(withdrawn.removed_resources, [api.spiffeId]);
  assert.deepEqual(withdrawn.resources, [], 'default still means web: not resent');

  stream.updateEntries([api, web]);
  const regranted = await nextMessage<DeltaDiscoveryResponse>(out);
  assert.deepEqual(new Map(regranted.resources.map((resource) => [resource.name, leafId(resource.resource)])), new Map([['default', api.spiffeId], [api.spiffeId, api.spiffeId]]));
  assert.deepEqual(regranted.removed_resources, []);
  assert.deepEqual(errors, []);
  stream.close();
});

test('SotW: a registration change that withdraws a subscribed name throws PERMISSION_DENIED naming it; one that keeps it pushes only if content changes', async () => {
  const out = new PassThrough({ objectMode: true });
  const stream = new SecretStream({ sink: out, store, trustDomain: 'example.org', logger, onError: () => undefined }, [web, api]);
  stream.handle({ type_url: SECRET_TYPE_URL, resource_names: ['default', 'ROOTCA'], version_info: '', response_nonce: '', node: null, error_detail: null });
  const first = await nextMessage<DiscoveryResponse>(out);
  assert.equal(leafId(first.resources[0] ?? { type_url: '', value: Buffer.alloc(0) }), web.spiffeId);

  stream.updateEntries([web]); // api withdrawn, but not subscribed: nothing to send
  stream.updateEntries([api]); // default now means api: the push is the marker
  // Pushes render the names in force when they start, in order: a message wrongly due to the
  // first change would be written before this one and would still serve web.
  const moved = await nextMessage<DiscoveryResponse>(out);
  assert.equal(leafId(moved.resources[0] ?? { type_url: '', value: Buffer.alloc(0) }), api.spiffeId, 'the first message after the changes serves api');

  const named = new SecretStream({ sink: new PassThrough({ objectMode: true }), store, trustDomain: 'example.org', logger, onError: () => undefined }, [web, api]);
  named.handle({ type_url: SECRET_TYPE_URL, resource_names: [api.spiffeId], version_info: '', response_nonce: '', node: null, error_detail: null });
  assert.throws(() => named.updateEntries([web]), (error) => isMeshidError(error, 'NO_IDENTITY') && error.message.includes(api.spiffeId));
  stream.close();
  named.close();
});
