import { status as GrpcStatus, type ServiceError, Metadata } from '@grpc/grpc-js';
import { isMeshidError, type ErrorCode } from '../common/errors';

/**
 * The one place domain errors become gRPC statuses. Codes are chosen for how clients retry:
 * go-spiffe and Envoy stop on INVALID_ARGUMENT, back off and retry on PERMISSION_DENIED and
 * UNAVAILABLE (SPIFFE Workload API spec, "Error codes"; SPIRE agent workload handler).
 */
const STATUS_BY_CODE: Record<ErrorCode, GrpcStatus> = {
  INVALID_CONFIG: GrpcStatus.INTERNAL,
  INVALID_SPIFFE_ID: GrpcStatus.INVALID_ARGUMENT,
  MISSING_SECURITY_HEADER: GrpcStatus.INVALID_ARGUMENT,
  INVALID_REQUEST: GrpcStatus.INVALID_ARGUMENT,
  // A quota, not a malformed message: gRPC's code for "some resource has been exhausted, perhaps a
  // per-user quota" (grpc/doc/statuscodes.md), as grpc-js answers an oversized message.
  LIMIT_EXCEEDED: GrpcStatus.RESOURCE_EXHAUSTED,
  NO_IDENTITY: GrpcStatus.PERMISSION_DENIED,
  PEER_UNVERIFIED: GrpcStatus.UNAUTHENTICATED,
  NOT_READY: GrpcStatus.UNAVAILABLE,
  UPSTREAM: GrpcStatus.UNAVAILABLE,
  ATTESTATION_FAILED: GrpcStatus.UNAVAILABLE,
  SOCKET_IN_USE: GrpcStatus.INTERNAL,
  SHUTTING_DOWN: GrpcStatus.UNAVAILABLE,
  INTERNAL: GrpcStatus.INTERNAL,
};

export function toServiceError(error: unknown): Partial<ServiceError> {
  if (isMeshidError(error)) {
    return { code: STATUS_BY_CODE[error.code], details: error.message, metadata: new Metadata() };
  }
  // Unexpected failures are not described to the caller: the message may name internals.
  return { code: GrpcStatus.INTERNAL, details: 'internal error', metadata: new Metadata() };
}
