import type { ServerWritableStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { LatestValuePusher, type Rendered } from '../common/latest-value-pusher';
import type { StreamApi, StreamObserver } from '../serving/stream-observer';
import type { CallerResolver } from '../serving/caller-resolver';
import type { RegistrationEntry } from '../entries/entries';
import { connectorBoundSink } from '../attestation/connector-bound-sink';
import { toServiceError } from '../serving/grpc-status';
import type { ResolvedWorkload } from '../attestation/workload-resolver';
import { requireSecurityHeader } from './security-header';

export interface WorkloadStreamDependencies {
  readonly resolver: CallerResolver;
  readonly logger: Logger;
  readonly observer?: StreamObserver;
}

export interface WorkloadStreamSpec<T> {
  readonly api: StreamApi;
  /** The full state for this caller now. */
  readonly render: (workload: ResolvedWorkload) => Promise<Rendered<T>>;
  /** Subscribes to the changes that may alter `render`'s output; returns the unsubscribe. */
  readonly watch: (current: () => ResolvedWorkload, notify: () => void) => () => void;
}

/**
 * The life of one server-streaming Workload API call (FetchX509SVID, FetchX509Bundles,
 * FetchJWTBundles): header, attestation, then the full state through a one-slot mailbox on every
 * relevant change, each sent only after the caller is checked to still be the process that
 * connected. Registration changes re-match the selectors attested at connect time: an
 * identity no longer granted leaves the next message; none left ends the stream
 * (PERMISSION_DENIED). The stream is tracked (metrics, shutdown ends it UNAVAILABLE).
 */
export async function serveWorkloadStream<T>(call: ServerWritableStream<unknown, T>, deps: WorkloadStreamDependencies, spec: WorkloadStreamSpec<T>): Promise<void> {
  try {
    requireSecurityHeader(call.metadata);
    let workload = await deps.resolver.resolve(call.getPeer());
    if (call.cancelled) return;
    const end = (error: unknown): void => {
      cleanup();
      refuse(call, error, deps.logger);
    };
    // Every message is sent only while the connector is still the process that connected: an
    // exec or setuid after the stream opened ends it UNAUTHENTICATED (connector-binding.ts).
    const sink = connectorBoundSink(call, () => deps.resolver.verifyConnector(workload.peer));
    const pusher = new LatestValuePusher<T>(sink, () => spec.render(workload), end, undefined, (seconds) => deps.observer?.pushed(spec.api, seconds));
    const unwatch = spec.watch(() => workload, () => pusher.notify());
    const unsubscribeEntries = deps.resolver.onEntriesChange(() => {
      try {
        const entries = deps.resolver.entriesFor(workload.selectors);
        if (entriesKey(entries) !== entriesKey(workload.entries)) {
          workload = { ...workload, entries };
          pusher.notify();
        }
      } catch (error) {
        end(error);
      }
    });
    const untrack = deps.observer?.open(spec.api, () => workload.entries.map((entry) => entry.spiffeId), end) ?? (() => undefined);
    let cleaned = false;
    function cleanup(): void {
      if (cleaned) return;
      cleaned = true;
      pusher.close();
      unwatch();
      unsubscribeEntries();
      untrack();
    }
    call.once('cancelled', cleanup);
    call.once('close', cleanup);
    pusher.notify();
  } catch (error) {
    refuse(call, error, deps.logger);
  }
}

/** What an entry puts into a message; equal keys mean nothing to re-send. */
function entriesKey(entries: readonly RegistrationEntry[]): string {
  return JSON.stringify(entries.map((entry) => [entry.spiffeId, entry.dnsNames, entry.hint ?? '']));
}

function refuse(call: ServerWritableStream<unknown, unknown>, error: unknown, logger: Logger): void {
  const status = toServiceError(error);
  logger.debug({ code: status.code, reason: status.details }, 'workload API call refused');
  call.emit('error', status);
}
