import { Command } from '@commander-js/extra-typings';
import { fromStruct } from '../workload-api/protobuf-struct';
import { outputOption, socketOption, timeoutOption, type OutputFormat } from './cli-options';
import { resolveEndpointSocket } from './endpoint-socket';
import { exitWith, UsageError } from './usage-error';
import { describeCallError, validateJwtSvid } from './workload-api-client';

interface ValidateJwtOptions {
  readonly audience?: string;
  readonly svid?: string;
  readonly socket?: string;
  readonly timeout: number;
  readonly output: OutputFormat;
}

export function apiValidateJwtCommand() {
  return new Command('jwt')
    .summary('have the agent validate a JWT-SVID')
    .description(
      `Asks the agent to validate a JWT-SVID against its trust bundle for one audience. Exit 0 when valid (prints the SPIFFE ID and the claims), 1 when not (prints the reason).`,
    )
    .option('--audience <aud>', 'the audience the token must carry (required)')
    .option('--svid <token>', 'the JWT-SVID (required)')
    .addOption(socketOption())
    .addOption(timeoutOption(10_000))
    .addOption(outputOption())
    .addHelpText('after', '\n--output json prints {"spiffeId": ..., "claims": {...}} on success')
    .action(async (options) => exitWith(await validateJwt(options)));
}

async function validateJwt(options: ValidateJwtOptions): Promise<number> {
  const { audience, svid } = options;
  if (audience === undefined || audience === '') throw new UsageError('--audience is required');
  if (svid === undefined || svid === '') throw new UsageError('--svid is required');
  const socketPath = resolveEndpointSocket(options.socket, process.env, process.cwd());

  let response;
  try {
    response = await validateJwtSvid(socketPath, { audience, svid }, options.timeout);
  } catch (error) {
    console.error(`meshid: ${describeCallError(error)}`);
    return 1;
  }
  const claims = fromStruct(response.claims);
  if (options.output === 'json') {
    console.log(JSON.stringify({ spiffeId: response.spiffe_id, claims }));
    return 0;
  }
  console.log(`Valid JWT-SVID for ${audience}

SPIFFE ID:      ${response.spiffe_id}
Claims:         ${JSON.stringify(claims, null, 2).replace(/\n/g, '\n                ')}`);
  return 0;
}
