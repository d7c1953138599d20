/** The stream-serving RPCs, as a metrics label. */
export type StreamApi = 'workload_x509_svid' | 'workload_x509_bundles' | 'workload_jwt_bundles' | 'sds_sotw' | 'sds_delta';

/**
 * What both APIs report about their streams. The composition root wires telemetry behind it
 * (StreamTracker: meshid_open_streams, meshid_push_latency_seconds, /debug/svids, shutdown), so
 * the serving code knows nothing of Prometheus.
 */
export interface StreamObserver {
  /** A stream opened serving `spiffeIds()`; `end` closes it with a status (shutdown). Returns the function that records its close. */
  open(api: StreamApi, spiffeIds: () => readonly string[], end: (error: unknown) => void): () => void;
  /** A push reached the wire `seconds` after the change that caused it. */
  pushed(api: StreamApi, seconds: number): void;
}
