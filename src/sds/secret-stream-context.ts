import type { Logger } from 'pino';
import type { MessageSink } from '../common/latest-value-pusher';
import type { SvidSource } from '../serving/svid-source';
import type { StreamLease } from '../serving/caller-budget';

/** What a SotW or Delta secret stream is given besides the caller's entries. */
export interface SecretStreamContext {
  readonly sink: MessageSink;
  readonly store: SvidSource;
  readonly trustDomain: string;
  readonly logger: Logger;
  /** Ends the stream with the mapped status. */
  readonly onError: (error: unknown) => void;
  /** Push latency per sent response (metrics). */
  readonly onSent?: (latencySeconds: number) => void;
  /** This stream's share of its caller's subscription budget; without it, unbounded (unit tests). */
  readonly lease?: StreamLease;
}
