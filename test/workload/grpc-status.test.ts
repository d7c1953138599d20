import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metadata, status } from '@grpc/grpc-js';
import { MeshidError, type ErrorCode } from '../../src/common/errors';
import { toServiceError } from '../../src/serving/grpc-status';

// How clients react decides these (SPIFFE Workload API "Error codes"; go-spiffe and Envoy stop
// on INVALID_ARGUMENT, back off and retry on PERMISSION_DENIED and UNAVAILABLE): the table is
// written out here rather than read from the module, so a change to it is a visible decision.
const EXPECTED: Record<ErrorCode, status> = {
  INVALID_CONFIG: status.INTERNAL,
  INVALID_SPIFFE_ID: status.INVALID_ARGUMENT,
  MISSING_SECURITY_HEADER: status.INVALID_ARGUMENT,
  INVALID_REQUEST: status.INVALID_ARGUMENT,
  LIMIT_EXCEEDED: status.RESOURCE_EXHAUSTED,
  NO_IDENTITY: status.PERMISSION_DENIED,
  PEER_UNVERIFIED: status.UNAUTHENTICATED,
  NOT_READY: status.UNAVAILABLE,
  UPSTREAM: status.UNAVAILABLE,
  ATTESTATION_FAILED: status.UNAVAILABLE,
  SOCKET_IN_USE: status.INTERNAL,
  SHUTTING_DOWN: status.UNAVAILABLE,
  INTERNAL: status.INTERNAL,
};

test('each domain error code maps to the gRPC status clients retry or stop on, with its message as details', () => {
  for (const [code, expected] of Object.entries(EXPECTED) as [ErrorCode, status][]) {
    const mapped = toServiceError(new MeshidError(code, `message for ${code}`));
    assert.equal(mapped.code, expected, `${code} → ${status[expected]}, got ${status[mapped.code ?? -1]}`);
    assert.equal(mapped.details, `message for ${code}`);
    assert.ok(mapped.metadata instanceof Metadata, 'grpc-js needs metadata to send trailers');
  }
});

test('the cause of a domain error is not sent: only its own message', () => {
  const mapped = toServiceError(new MeshidError('UPSTREAM', 'upstream(pkcs11): the token is gone', { cause: new Error('CKR_DEVICE_REMOVED at /usr/lib/softhsm/libsofthsm2.so') }));
  assert.deepEqual({ code: mapped.code, details: mapped.details }, { code: status.UNAVAILABLE, details: 'upstream(pkcs11): the token is gone' });
});

test('anything else is INTERNAL with a generic message: internals never reach the caller', () => {
  const lookalike = Object.assign(new Error('EACCES: /var/lib/meshid/upstream-ca.key'), { code: 'NO_IDENTITY' });
  for (const error of [new Error('/var/lib/meshid/upstream-ca.key: permission denied'), new TypeError('x is undefined'), lookalike, 'a string', undefined, { code: status.NOT_FOUND }]) {
    const mapped = toServiceError(error);
    assert.deepEqual({ code: mapped.code, details: mapped.details }, { code: status.INTERNAL, details: 'internal error' }, String(error));
    assert.ok(mapped.metadata instanceof Metadata);
  }
});
