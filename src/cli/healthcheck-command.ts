import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { formatDuration } from '../agent/config/duration';
import { parseOptions, usageError, type Command } from './command';
import { parseTimeoutMs } from './cli-options';
import { resolveEndpointSocket } from './endpoint-socket';
import { describeCallError, fetchX509BundlesOnce } from './workload-api-client';

const HELP = `Usage: meshid healthcheck [--socket PATH] [--timeout 5s]

Exit 0 when the agent answers a FetchX509Bundles call with its first message within the
timeout, 1 otherwise; either way one line says why. The calling process must itself be a
registered workload (the agent refuses bundles to others): run it as a user an entry matches.`;

export const healthcheckCommand: Command = {
  async run(args) {
    const { values, exit } = parseOptions(args, { socket: { type: 'string' }, timeout: { type: 'string' } }, HELP);
    if (exit !== undefined) return exit;
    const timeoutMs = parseTimeoutMs(values.timeout, 5_000);
    if (timeoutMs === undefined) return usageError(`--timeout must be a duration such as 5s, got "${String(values.timeout)}"`);
    const socketPath = resolveEndpointSocket(values.socket as string | undefined, process.env, process.cwd());
    try {
      const response = await fetchX509BundlesOnce(socketPath, timeoutMs);
      console.log(`healthy: agent at ${socketPath} served bundles for ${Object.keys(response.bundles).join(', ') || 'no trust domain'}`);
      return 0;
    } catch (error) {
      console.error(`unhealthy: ${reason(error as ServiceError, socketPath, timeoutMs)}`);
      return 1;
    }
  },
};

function reason(error: ServiceError, socketPath: string, timeoutMs: number): string {
  switch (error.code) {
    case GrpcStatus.DEADLINE_EXCEEDED:
      return `agent at ${socketPath} did not answer within ${formatDuration(timeoutMs)}`;
    case GrpcStatus.UNAVAILABLE:
      return `no agent reachable at ${socketPath} (${error.details})`;
    case GrpcStatus.PERMISSION_DENIED:
      return `agent at ${socketPath} answered but refused this process: ${error.details}`;
    default:
      return `agent at ${socketPath} answered ${describeCallError(error)}`;
  }
}
