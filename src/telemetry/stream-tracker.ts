import type { StreamApi, StreamObserver } from '../serving/stream-observer';
import type { AgentMetrics } from './agent-metrics';

interface TrackedStream {
  readonly api: StreamApi;
  readonly spiffeIds: () => readonly string[];
  /** Ends the stream with a status (used at shutdown: UNAVAILABLE, so clients reconnect). */
  readonly end: (error: unknown) => void;
}

/**
 * The open streams, for meshid_open_streams{api} and /debug/svids ("who holds this SVID open").
 * A stream registers a function returning the SPIFFE IDs it currently serves, so the debug
 * endpoint sees entry changes without the streams reporting every one.
 */
export class StreamTracker implements StreamObserver {
  private readonly streams = new Set<TrackedStream>();

  constructor(private readonly metrics?: AgentMetrics) {}

  /** Returns the function that forgets the stream; calling it twice is harmless. */
  open(api: StreamApi, spiffeIds: () => readonly string[], end: (error: unknown) => void): () => void {
    const stream: TrackedStream = { api, spiffeIds, end };
    this.streams.add(stream);
    this.metrics?.openStreams.inc({ api });
    return () => {
      if (this.streams.delete(stream)) this.metrics?.openStreams.dec({ api });
    };
  }

  pushed(api: StreamApi, seconds: number): void {
    this.metrics?.pushLatency.observe({ api }, seconds);
  }

  /** Open streams per SPIFFE ID they serve. */
  countsBySpiffeId(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const stream of this.streams) {
      for (const id of new Set(stream.spiffeIds())) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  }

  /** Ends every open stream with `error` (shutdown). */
  endAll(error: unknown): void {
    for (const stream of [...this.streams]) stream.end(error);
  }

  get size(): number {
    return this.streams.size;
  }
}
