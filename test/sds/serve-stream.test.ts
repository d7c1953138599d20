import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { test } from 'node:test';
import { status, type ServerDuplexStream, type ServiceError } from '@grpc/grpc-js';
import pino from 'pino';
import { MeshidError } from '../../src/common/errors';
import { BundleAckTracker } from '../../src/rotation/bundle-ack-tracker';
import type { MessageSink } from '../../src/common/latest-value-pusher';
import type { StoreChange, SvidStore } from '../../src/rotation/svid-store';
import { serveDiscoveryStream, type DiscoveryStreamHandler } from '../../src/sds/serve-stream';
import { StreamTracker } from '../../src/telemetry/stream-tracker';
import type { RegistrationEntry } from '../../src/entries/entries';
import type { ResolvedWorkload, WorkloadResolver } from '../../src/attestation/workload-resolver';
import { CallerBudget, type StreamLease } from '../../src/serving/caller-budget';

// serveDiscoveryStream against fakes that do no I/O: a fake call, resolver, store and handler
// that log what happens to them, in order.

const logger = pino({ level: 'silent' });
const WEB: RegistrationEntry = { spiffeId: 'spiffe://example.org/web', selectors: ['unix:uid:1000'], dnsNames: [] };
const API: RegistrationEntry = { spiffeId: 'spiffe://example.org/api', selectors: ['unix:uid:1000'], dnsNames: [] };

/**
 * The fakes do no I/O, so every promise chain they start has run once a macrotask runs
 * (microtasks always drain first): not a guess at how many turns are enough.
 */
const chainsRun = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

class FakeCall extends EventEmitter {
  cancelled = false;
  ended = false;
  readonly written: unknown[] = [];
  getPeer(): string {
    return 'peer-token-1';
  }
  write(message: unknown): boolean {
    this.written.push(message);
    return true;
  }
  end(): void {
    this.ended = true;
  }
  /** The status the stream ended with (serve-stream emits 'error' on the call). */
  async failure(): Promise<Partial<ServiceError>> {
    const [error] = (await once(this, 'error')) as [Partial<ServiceError>];
    return error;
  }
}

class FakeResolver {
  readonly log: string[];
  connectorBound = true;
  entries: readonly RegistrationEntry[] = [WEB];
  rematchFails = false;
  private readonly entryListeners = new Set<() => void>();
  private settle: { resolve: (workload: ResolvedWorkload) => void; reject: (error: unknown) => void } | undefined;
  readonly workload: ResolvedWorkload = { peer: { pid: 4242, uid: 1000 } as ResolvedWorkload['peer'], selectors: ['unix:uid:1000'], entries: [WEB] };

  constructor(log: string[]) {
    this.log = log;
  }
  resolve(peer: string): Promise<ResolvedWorkload> {
    this.log.push(`resolve ${peer}`);
    return new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }
  attested(): void {
    this.settle?.resolve(this.workload);
  }
  refused(error: unknown): void {
    this.settle?.reject(error);
  }
  verifyConnector(peer: ResolvedWorkload['peer']): void {
    this.log.push(`verify ${peer.pid}`);
    if (!this.connectorBound) throw new MeshidError('PEER_UNVERIFIED', 'pid 4242 is no longer the process that connected');
  }
  onEntriesChange(listener: () => void): () => void {
    this.entryListeners.add(listener);
    return () => this.entryListeners.delete(listener);
  }
  entriesFor(selectors: readonly string[]): readonly RegistrationEntry[] {
    this.log.push(`entriesFor ${selectors.join()}`);
    if (this.rematchFails) throw new MeshidError('NO_IDENTITY', 'no entry matches the caller any more');
    return this.entries;
  }
  registrationChanged(entries: readonly RegistrationEntry[]): void {
    this.entries = entries;
    for (const listener of this.entryListeners) listener();
  }
  get entryListenerCount(): number {
    return this.entryListeners.size;
  }
}

class FakeStore {
  private readonly listeners = new Set<(change: StoreChange) => void>();
  subscribe(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  publish(change: StoreChange): void {
    for (const listener of this.listeners) listener(change);
  }
  get listenerCount(): number {
    return this.listeners.size;
  }
}

/** A handler that logs each call; a request 'bad' throws INVALID_REQUEST. */
class LoggingHandler implements DiscoveryStreamHandler<string> {
  servesBundleNow = true;
  acked: number | undefined;
  constructor(
    private readonly log: string[],
    readonly workload: ResolvedWorkload,
    readonly sink: MessageSink,
  ) {}
  handle(request: string): void {
    this.log.push(`handle ${request}`);
    if (request === 'bad') throw new MeshidError('INVALID_REQUEST', 'unsupported type_url "x"');
  }
  onStoreChange(change: StoreChange): void {
    this.log.push(`store ${change.kind === 'svid' ? change.spiffeId : 'bundle'}`);
  }
  updateEntries(entries: readonly RegistrationEntry[]): void {
    this.log.push(`entries ${entries.map((entry) => entry.spiffeId).join()}`);
  }
  close(): void {
    this.log.push('close');
  }
  servesBundle(): boolean {
    return this.servesBundleNow;
  }
  ackedBundleVersion(): number | undefined {
    return this.acked;
  }
}

function serve(budget?: CallerBudget) {
  const log: string[] = [];
  const leases: StreamLease[] = [];
  const call = new FakeCall();
  const resolver = new FakeResolver(log);
  const store = new FakeStore();
  const acks = new BundleAckTracker();
  acks.onChange(() => log.push('acks changed'));
  const streams = new StreamTracker();
  const handlers: LoggingHandler[] = [];
  serveDiscoveryStream(
    call as unknown as ServerDuplexStream<string, unknown>,
    { resolver: resolver as unknown as WorkloadResolver, store: store as unknown as SvidStore, logger, observer: streams, acks, ...(budget ? { budget } : {}) },
    'sds_delta',
    (workload, _fail, sink, lease) => {
      log.push('create');
      leases.push(lease);
      const handler = new LoggingHandler(log, workload, sink);
      handlers.push(handler);
      return handler;
    },
  );
  return { log, call, resolver, store, acks, streams, handlers, leases };
}

test('requests wait for attestation, then are handled strictly in order, each after the connector check; the ACK tracker hears of each', async () => {
  const { log, call, resolver, handlers } = serve();
  call.emit('data', 'first');
  call.emit('data', 'second');
  call.emit('data', 'third');
  assert.deepEqual(log, ['resolve peer-token-1'], 'nothing is handled before the caller is attested');
  resolver.attested();
  await chainsRun();
  assert.deepEqual(log, [
    'resolve peer-token-1',
    'create',
    'verify 4242',
    'handle first',
    'acks changed',
    'verify 4242',
    'handle second',
    'acks changed',
    'verify 4242',
    'handle third',
    'acks changed',
  ]);
  assert.equal(handlers[0]?.workload, resolver.workload, 'the handler serves the attested workload');
});

test('a handler error ends the stream once, with the mapped status; requests after it are not handled', async () => {
  const { log, call, resolver } = serve();
  resolver.attested();
  let errors = 0;
  call.on('error', () => errors++);
  const failure = call.failure();
  call.emit('data', 'bad');
  call.emit('data', 'after');
  const error = await failure;
  assert.deepEqual({ code: error.code, details: error.details }, { code: status.INVALID_ARGUMENT, details: 'unsupported type_url "x"' });
  await chainsRun();
  assert.ok(!log.includes('handle after'), `the request after the failure is not handled: ${log.join(' | ')}`);
  assert.equal(errors, 1, 'the stream ends once');
});

test('an attestation failure ends the stream with its status and creates no handler', async () => {
  const { log, call, resolver } = serve();
  call.emit('data', 'first');
  const failure = call.failure();
  resolver.refused(new MeshidError('NO_IDENTITY', 'no registration entry matches the caller'));
  const error = await failure;
  assert.deepEqual({ code: error.code, details: error.details }, { code: status.PERMISSION_DENIED, details: 'no registration entry matches the caller' });
  await chainsRun();
  assert.deepEqual(log, ['resolve peer-token-1'], 'no handler, no request handled');
});

test('a caller no longer the process that connected ends the stream UNAUTHENTICATED before its request is handled', async () => {
  const { log, call, resolver } = serve();
  resolver.attested();
  call.emit('data', 'first');
  await chainsRun();
  resolver.connectorBound = false; // an exec or setuid after the stream opened
  const failure = call.failure();
  call.emit('data', 'second');
  const error = await failure;
  assert.equal(error.code, status.UNAUTHENTICATED);
  assert.match(error.details ?? '', /no longer the process that connected/);
  assert.ok(!log.includes('handle second'));
});

test('the sink the handler writes to checks the connector before every message', async () => {
  const { call, resolver, handlers } = serve();
  resolver.attested();
  await chainsRun();
  const sink = handlers[0]?.sink;
  assert.ok(sink);
  assert.equal(sink.write('push 1'), true);
  assert.deepEqual(call.written, ['push 1']);
  resolver.connectorBound = false;
  assert.throws(() => sink.write('push 2'), (error) => error instanceof MeshidError && error.code === 'PEER_UNVERIFIED');
  assert.deepEqual(call.written, ['push 1'], 'nothing is written to a caller that is no longer the one that connected');
});

test('store changes reach the handler until the stream closes; closing releases every subscription', async () => {
  const { log, call, resolver, store, acks, streams } = serve();
  resolver.attested();
  await chainsRun();
  assert.equal(streams.size, 1, 'tracked while open');
  assert.deepEqual([...streams.countsBySpiffeId()], [[WEB.spiffeId, 1]]);
  store.publish({ kind: 'svid', spiffeId: WEB.spiffeId });
  store.publish({ kind: 'bundle' });
  assert.deepEqual(log.slice(-2), [`store ${WEB.spiffeId}`, 'store bundle']);

  call.emit('cancelled');
  assert.equal(log.at(-2), 'close', 'the handler is closed');
  assert.equal(store.listenerCount, 0);
  assert.equal(resolver.entryListenerCount, 0);
  assert.equal(streams.size, 0);
  assert.equal(log.at(-1), 'acks changed', 'a closed stream no longer holds a root rotation');
  assert.deepEqual(acks.behind(1), []);
  store.publish({ kind: 'bundle' });
  assert.equal(log.at(-1), 'acks changed', 'no store change reaches a closed stream');
});

test('a registration change re-matches the selectors attested at connect time; the stream then serves the new entries', async () => {
  const { log, call, resolver, streams } = serve();
  resolver.attested();
  await chainsRun();
  resolver.registrationChanged([API, WEB]);
  assert.deepEqual(log.slice(-2), ['entriesFor unix:uid:1000', `entries ${API.spiffeId},${WEB.spiffeId}`]);
  assert.deepEqual([...streams.countsBySpiffeId()].sort(), [[API.spiffeId, 1], [WEB.spiffeId, 1]]);

  resolver.rematchFails = true;
  const failure = call.failure();
  resolver.registrationChanged([]);
  const error = await failure;
  assert.deepEqual({ code: error.code, details: error.details }, { code: status.PERMISSION_DENIED, details: 'no entry matches the caller any more' });
});

test('the ACK tracker asks the handler: a stream serving a bundle it has not ACKed is behind, under a label naming the caller', async () => {
  const { resolver, acks, handlers } = serve();
  resolver.attested();
  await chainsRun();
  const handler = handlers[0];
  assert.ok(handler);
  assert.deepEqual(acks.behind(3), [`sds_delta stream of pid 4242 (${WEB.spiffeId})`]);
  handler.acked = 3;
  assert.deepEqual(acks.behind(3), []);
  handler.acked = undefined;
  handler.servesBundleNow = false;
  assert.deepEqual(acks.behind(3), [], 'a stream without a validation context is not waited for');
});

test('a stream cancelled while its caller is attested gets no handler; a client half-close ends the server side', async () => {
  const cancelled = serve();
  cancelled.call.cancelled = true;
  cancelled.resolver.attested();
  await chainsRun();
  assert.deepEqual(cancelled.log, ['resolve peer-token-1']);
  assert.equal(cancelled.store.listenerCount, 0);

  const halfClosed = serve();
  halfClosed.call.emit('end');
  assert.equal(halfClosed.call.ended, true);
});

test('a stream takes a slot of its caller\'s budget once attested, and gives it back with its subscriptions when it ends', async () => {
  const budget = new CallerBudget({ maxStreamsPerUid: 2, maxSubscriptionsPerUid: 10 });
  const { call, resolver, leases } = serve(budget);
  assert.deepEqual(budget.usage(1000), { streams: 0, subscriptions: 0 }, 'nothing is taken before attestation');
  resolver.attested();
  await chainsRun();
  leases[0]?.resize(7);
  assert.deepEqual(budget.usage(1000), { streams: 1, subscriptions: 7 });
  call.emit('cancelled');
  assert.deepEqual(budget.usage(1000), { streams: 0, subscriptions: 0 });

  const failing = serve(budget);
  failing.resolver.attested();
  await chainsRun();
  failing.leases[0]?.resize(3);
  const failure = failing.call.failure();
  failing.call.emit('data', 'bad'); // a handler error ends the stream: its share is given back too
  await failure;
  assert.deepEqual(budget.usage(1000), { streams: 0, subscriptions: 0 });
});

test('a stream that ends while its caller is attested takes nothing from the budget', async () => {
  const budget = new CallerBudget({ maxStreamsPerUid: 2, maxSubscriptionsPerUid: 10 });
  const { call, resolver, log } = serve(budget);
  call.emit('close');
  resolver.attested();
  await chainsRun();
  assert.deepEqual(budget.usage(1000), { streams: 0, subscriptions: 0 });
  assert.ok(!log.includes('create'), log.join(' | '));
});

test('a stream past its caller\'s stream cap ends RESOURCE_EXHAUSTED and creates no handler', async () => {
  const budget = new CallerBudget({ maxStreamsPerUid: 1, maxSubscriptionsPerUid: 10 });
  const held = serve(budget);
  held.resolver.attested();
  await chainsRun();
  const { call, resolver, log } = serve(budget);
  const failure = call.failure();
  resolver.attested();
  const error = await failure;
  assert.equal(error.code, status.RESOURCE_EXHAUSTED, error.details);
  assert.match(error.details ?? '', /open SDS streams of this caller \(uid 1000\): 2 exceeds the limit of 1/);
  assert.ok(!log.includes('create'), log.join(' | '));
  assert.deepEqual(budget.usage(1000), { streams: 1, subscriptions: 0 }, 'the refused stream took nothing');
});
