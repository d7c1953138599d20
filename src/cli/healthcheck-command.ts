import { Command } from '@commander-js/extra-typings';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { formatDuration } from '../agent/config/duration';
import { socketOption, timeoutOption } from './cli-options';
import { resolveEndpointSocket } from './endpoint-socket';
import { exitWith } from './usage-error';
import { describeCallError, fetchX509BundlesOnce } from './workload-api-client';

export function healthcheckCommand() {
  return new Command('healthcheck')
    .summary('exit 0 if the agent serves bundles, 1 if not')
    .description(
      `Exit 0 when the agent answers a FetchX509Bundles call with its first message within the timeout, 1 otherwise; either way one line says why. The calling process must itself be a registered workload (the agent refuses bundles to others): run it as a user an entry matches.`,
    )
    .addOption(socketOption())
    .addOption(timeoutOption(5_000))
    .action(async (options) => exitWith(await healthcheck(options)));
}

async function healthcheck(options: { socket?: string; timeout: number }): Promise<number> {
  const socketPath = resolveEndpointSocket(options.socket, process.env, process.cwd());
  try {
    const response = await fetchX509BundlesOnce(socketPath, options.timeout);
    console.log(`healthy: agent at ${socketPath} served bundles for ${Object.keys(response.bundles).join(', ') || 'no trust domain'}`);
    return 0;
  } catch (error) {
    console.error(`unhealthy: ${reason(error as ServiceError, socketPath, options.timeout)}`);
    return 1;
  }
}

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
