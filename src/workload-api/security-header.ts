import type { Metadata } from '@grpc/grpc-js';
import { MeshidError } from '../common/errors';

/**
 * Every Workload API call must carry `workload.spiffe.io: true` (SPIFFE Workload API spec,
 * "Transport"): it proves the request came from a Workload API client, not from a browser or
 * proxy tricked into connecting. Missing → INVALID_ARGUMENT, which clients do not retry.
 */
export function requireSecurityHeader(metadata: Metadata): void {
  const values = metadata.get('workload.spiffe.io');
  if (values.length !== 1 || values[0] !== 'true') {
    throw new MeshidError('MISSING_SECURITY_HEADER', 'security header missing from request: workload.spiffe.io: true');
  }
}
