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
      `Exit 0 when the agent answers a FetchX509Bundles call within the timeout, with its first message or with PERMISSION_DENIED (it attested this process and found no entry: it is up), 1 otherwise; either way one line says why.`,
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
    // PERMISSION_DENIED comes from an agent that attested this process and applied its
    // registration: it is up and serving, which is what a health check asks.
    if ((error as ServiceError).code === GrpcStatus.PERMISSION_DENIED) {
      console.log(`healthy: agent at ${socketPath} answered (this process is not registered, so it got no bundles: ${(error as ServiceError).details})`);
      return 0;
    }
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
    default:
      return `agent at ${socketPath} answered ${describeCallError(error)}`;
  }
}
