/**
 * Domain errors carry a code; transport layers map codes to their own status in one place
 * (src/serving/grpc-status.ts for gRPC). Messages never contain key material.
 */
export type ErrorCode =
  | 'INVALID_CONFIG' // configuration rejected; the CLI exits 2
  | 'INVALID_SPIFFE_ID'
  | 'MISSING_SECURITY_HEADER' // Workload API call without `workload.spiffe.io: true`
  | 'INVALID_REQUEST' // malformed request (bad type_url, bad resource name, ...)
  | 'LIMIT_EXCEEDED' // a request (or a stream's subscriptions) over a cap of src/serving/request-limits.ts
  | 'NO_IDENTITY' // caller attested, but no entry grants it an identity
  | 'PEER_UNVERIFIED' // peer credentials missing, or the pid was reused during attestation
  | 'NOT_READY' // no CA active yet
  | 'UPSTREAM' // upstream CA unusable
  | 'ATTESTATION_FAILED'
  | 'SOCKET_IN_USE' // another live process serves on the configured socket
  | 'SHUTTING_DOWN' // the agent is stopping; open streams end so clients reconnect
  | 'INTERNAL';

export class MeshidError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MeshidError';
  }
}

export function isMeshidError(value: unknown, code?: ErrorCode): value is MeshidError {
  return value instanceof MeshidError && (code === undefined || value.code === code);
}
