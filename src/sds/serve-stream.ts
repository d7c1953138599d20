import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { MessageSink } from '../common/latest-value-pusher';
import { connectorBoundSink } from '../attestation/connector-bound-sink';
import type { StoreChange } from '../rotation/svid-store';
import type { SvidSource } from '../serving/svid-source';
import type { CallerResolver } from '../serving/caller-resolver';
import type { StreamApi, StreamObserver } from '../serving/stream-observer';
import type { BundleAckRegistry } from './bundle-acks';
import { toServiceError } from '../serving/grpc-status';
import type { RegistrationEntry } from '../entries/entries';
import type { ResolvedWorkload } from '../attestation/workload-resolver';
import { UNLIMITED_LEASE, type CallerBudget, type StreamLease } from '../serving/caller-budget';

/** What serveDiscoveryStream needs from one protocol variant (SotW or Delta). */
export interface DiscoveryStreamHandler<Request> {
  /** Handles one request; throwing ends the stream with the mapped status. */
  handle(request: Request): void;
  onStoreChange(change: StoreChange): void;
  /**
   * The caller's entries after a registration change (re-matched from the selectors attested at
   * connect time); throwing ends the stream. Called by whoever watches the registration.
   */
  updateEntries(entries: readonly RegistrationEntry[]): void;
  close(): void;
  /** For root rotation's ACK gate: whether a validation context is served, and its ACKed version. */
  servesBundle(): boolean;
  ackedBundleVersion(): number | undefined;
}

export interface StreamDependencies {
  readonly resolver: CallerResolver;
  readonly store: SvidSource;
  readonly logger: Logger;
  readonly observer?: StreamObserver;
  /** Root rotation waits on the bundle versions these streams' clients have ACKed. */
  readonly acks?: BundleAckRegistry;
  /** Streams and subscriptions per caller (uid) across all its streams; without it, unbounded. */
  readonly budget?: CallerBudget;
}

/**
 * The life of one xDS stream: attest the caller once, check before every request and push that
 * it is still the process that connected, handle requests strictly in order
 * (the first waits for attestation), forward store changes, and end the stream on the first
 * error with the status mapped in one place. The stream's failure never touches other streams.
 * Each stream takes a slot of its caller's budget once attested (refused with RESOURCE_EXHAUSTED
 * when the uid holds the maximum) and gives it back, with its subscriptions, when it ends.
 */
export function serveDiscoveryStream<Request, Response>(
  call: ServerDuplexStream<Request, Response>,
  deps: StreamDependencies,
  api: StreamApi,
  create: (workload: ResolvedWorkload, fail: (error: unknown) => void, sink: MessageSink, lease: StreamLease) => DiscoveryStreamHandler<Request>,
): void {
  let failed = false;
  const fail = (error: unknown): void => {
    if (failed) return;
    failed = true;
    const status = toServiceError(error);
    deps.logger.debug({ code: status.code, reason: status.details }, 'SDS stream ended with error');
    call.emit('error', status);
  };
  let handler: DiscoveryStreamHandler<Request> | undefined;
  let connectorStillBound = (): void => undefined;
  let unsubscribe = (): void => undefined;
  let releaseLease = (): void => undefined;
  let ended = false;
  let queue: Promise<void> = deps.resolver.resolve(call.getPeer()).then((workload) => {
    // Ended while attesting: nothing is taken, since cleanup has already run.
    if (failed || ended || call.cancelled) return;
    // Over the caller's stream cap this throws: the stream ends RESOURCE_EXHAUSTED, at O(1).
    const lease = deps.budget?.openStream(workload.peer.uid) ?? UNLIMITED_LEASE;
    releaseLease = () => lease.release();
    // Nothing is answered or pushed once the caller is no longer the process that connected (an
    // exec or setuid after the stream opened): the stream ends UNAUTHENTICATED.
    connectorStillBound = () => deps.resolver.verifyConnector(workload.peer);
    const created = create(workload, fail, connectorBoundSink(call, connectorStillBound), lease);
    handler = created;
    let entries = workload.entries;
    const unsubscribeStore = deps.store.subscribe((change) => created.onStoreChange(change));
    // Registration changed: re-match the selectors attested at connect time; a withdrawn name
    // is removed (Delta) or ends the stream (SotW), as the handler decides.
    const unsubscribeEntries = deps.resolver.onEntriesChange(() => {
      try {
        entries = deps.resolver.entriesFor(workload.selectors);
        created.updateEntries(entries);
      } catch (error) {
        fail(error);
      }
    });
    const untrack = deps.observer?.open(api, () => entries.map((entry) => entry.spiffeId), fail) ?? (() => undefined);
    const label = `${api} stream of pid ${workload.peer.pid} (${entries.map((entry) => entry.spiffeId).join(', ')})`;
    const unregisterAcks = deps.acks?.register({ label, servesBundle: () => created.servesBundle(), ackedBundleVersion: () => created.ackedBundleVersion() }) ?? (() => undefined);
    unsubscribe = () => {
      unsubscribeStore();
      unsubscribeEntries();
      untrack();
      unregisterAcks();
    };
  });
  queue.catch(fail);

  call.on('data', (request: Request) => {
    queue = queue.then(() => {
      if (failed) return;
      connectorStillBound();
      handler?.handle(request);
      deps.acks?.changed(); // an ACK may have moved the bundle version this client holds
    });
    queue.catch(fail);
  });
  call.on('end', () => call.end());
  const cleanup = (): void => {
    ended = true;
    handler?.close();
    unsubscribe();
    releaseLease();
  };
  call.once('cancelled', cleanup);
  call.once('close', cleanup);
  call.once('error', cleanup);
}
