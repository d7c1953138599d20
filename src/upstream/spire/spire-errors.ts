import { status as Status } from '@grpc/grpc-js';

/**
 * A failed server call in one line: the gRPC code name and the server's message, which names the
 * reason (`failed to attest: join token does not exist or has already been used`).
 */
export function spireCallProblem(error: unknown): string {
  const { code, details, message } = error as { code?: number; details?: string; message?: string };
  if (typeof code === 'number') return `${Status[code] ?? code}: ${details || message || 'no details'}`;
  return error instanceof Error ? error.message : String(error);
}

/** Codes after which retrying the same request cannot help (the agent was banned, evicted or its SVID refused). */
export function isPermanent(error: unknown): boolean {
  const code = (error as { code?: number }).code;
  return code === Status.PERMISSION_DENIED || code === Status.UNAUTHENTICATED;
}
