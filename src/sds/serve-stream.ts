import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { StoreChange, SvidStore } from '../rotation/svid-store';
import { toServiceError } from '../workload/grpc-status';
import type { RegistrationEntry } from '../workload/entries';
import type { ResolvedWorkload, WorkloadResolver } from '../workload/workload-resolver';

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
}

export interface StreamDependencies {
  readonly resolver: WorkloadResolver;
  readonly store: SvidStore;
  readonly logger: Logger;
}

/**
 * The life of one xDS stream: attest the caller once, then handle requests strictly in order
 * (the first waits for attestation), forward store changes, and end the stream on the first
 * error with the status mapped in one place. The stream's failure never touches other streams.
 */
export function serveDiscoveryStream<Request, Response>(
  call: ServerDuplexStream<Request, Response>,
  deps: StreamDependencies,
  create: (workload: ResolvedWorkload, fail: (error: unknown) => void) => DiscoveryStreamHandler<Request>,
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
  let unsubscribe = (): void => undefined;
  let queue: Promise<void> = deps.resolver.resolve(call.getPeer()).then((workload) => {
    if (failed || call.cancelled) return;
    const created = create(workload, fail);
    handler = created;
    unsubscribe = deps.store.subscribe((change) => created.onStoreChange(change));
  });
  queue.catch(fail);

  call.on('data', (request: Request) => {
    queue = queue.then(() => {
      if (!failed) handler?.handle(request);
    });
    queue.catch(fail);
  });
  call.on('end', () => call.end());
  const cleanup = (): void => {
    handler?.close();
    unsubscribe();
  };
  call.once('cancelled', cleanup);
  call.once('close', cleanup);
  call.once('error', cleanup);
}
