import path from 'node:path';
import { status as Status, type Metadata } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { Status__Output as RpcStatus } from '../generated/google/rpc/Status';
import type { PermissionDeniedDetails__Output } from '../generated/spire/api/types/PermissionDeniedDetails';
import { PROTO_DIR } from '../common/proto-files';

/**
 * A failed server call in one line: the gRPC code name and the server's message, which names the
 * reason (`failed to attest: join token does not exist or has already been used`).
 */
export function spireCallProblem(error: unknown): string {
  const { code, details, message } = error as { code?: number; details?: string; message?: string };
  if (typeof code === 'number') return `${Status[code] ?? code}: ${details || message || 'no details'}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * The reason the server attaches to an agent's PERMISSION_DENIED (spire.api.types.
 * PermissionDeniedDetails in the grpc-status-details-bin trailer, set by spire
 * pkg/server/endpoints/middleware.go AgentAuthorizer): `AGENT_BANNED`, `AGENT_NOT_ATTESTED`
 * (evicted), `AGENT_EXPIRED`, … or undefined for any other error.
 */
export function agentDeniedReason(error: unknown): string | undefined {
  const { code, metadata } = error as { code?: number; metadata?: Metadata };
  if (code !== Status.PERMISSION_DENIED || !metadata) return undefined;
  const [details] = metadata.get('grpc-status-details-bin');
  if (!Buffer.isBuffer(details)) return undefined;
  try {
    const types = detailTypes();
    const status = types.status.decode(details) as unknown as Partial<RpcStatus>;
    const detail = status.details?.find((any) => any.type_url.endsWith('/spire.api.types.PermissionDeniedDetails'));
    if (!detail) return undefined;
    const decoded = types.denied.toObject(types.denied.decode(detail.value), { enums: String }) as Partial<PermissionDeniedDetails__Output>;
    return decoded.reason ?? 'UNKNOWN';
  } catch {
    return undefined;
  }
}

/** Reasons after which this agent identity will never be accepted again. */
export const TERMINAL_DENIALS: ReadonlySet<string> = new Set(['AGENT_BANNED', 'AGENT_NOT_ATTESTED', 'AGENT_EXPIRED', 'AGENT_MUST_REATTEST']);

let loadedTypes: { status: protobuf.Type; denied: protobuf.Type } | undefined;
function detailTypes(): { status: protobuf.Type; denied: protobuf.Type } {
  if (!loadedTypes) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
    root.loadSync(['google/rpc/status.proto', 'spire/api/types/status.proto'], { keepCase: true });
    loadedTypes = { status: root.lookupType('google.rpc.Status'), denied: root.lookupType('spire.api.types.PermissionDeniedDetails') };
  }
  return loadedTypes;
}
