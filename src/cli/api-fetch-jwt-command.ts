import { Command, Option } from '@commander-js/extra-typings';
import { outputOption, socketOption, timeoutOption, type OutputFormat } from './cli-options';
import { resolveEndpointSocket } from './endpoint-socket';
import { unverifiedClaims } from './unverified-claims';
import { exitWith, UsageError } from './usage-error';
import { describeCallError, fetchJwtSvids } from './workload-api-client';

interface FetchJwtOptions {
  readonly audience: readonly string[];
  readonly spiffeId?: string;
  readonly socket?: string;
  readonly timeout: number;
  readonly output: OutputFormat;
}

export function apiFetchJwtCommand() {
  return new Command('jwt')
    .summary("fetch JWT-SVIDs for this process's identities")
    .description('Fetches JWT-SVIDs for this process over the SPIFFE Workload API: one per identity it holds, or only the one named by --spiffe-id.')
    .addOption(new Option('--audience <aud>', 'an audience the tokens are for (required; repeat for several)').argParser((value, previous: string[]) => [...previous, value]).default<string[]>([]))
    .option('--spiffe-id <id>', 'only this identity (refused if this process does not hold it)')
    .addOption(socketOption())
    .addOption(timeoutOption(10_000))
    .addOption(outputOption())
    .addHelpText('after', '\n--output json prints one JSON document: {"svids":[{"spiffeId","hint","expiresAt","token"}]}')
    .action(async (options) => exitWith(await fetchJwt(options)));
}

async function fetchJwt(options: FetchJwtOptions): Promise<number> {
  const { audience } = options;
  if (audience.length === 0) throw new UsageError('--audience is required');
  const socketPath = resolveEndpointSocket(options.socket, process.env, process.cwd());

  let svids;
  try {
    ({ svids } = await fetchJwtSvids(socketPath, { audience: [...audience], spiffe_id: options.spiffeId ?? '' }, options.timeout));
  } catch (error) {
    console.error(`meshid: fetch from ${socketPath} failed: ${describeCallError(error)}`);
    return 1;
  }
  const summaries = svids.map((svid) => {
    const exp = unverifiedClaims(svid.svid).exp;
    return { spiffeId: svid.spiffe_id, hint: svid.hint, expiresAt: typeof exp === 'number' ? new Date(exp * 1000).toISOString() : null, token: svid.svid };
  });
  if (options.output === 'json') {
    console.log(JSON.stringify({ svids: summaries }));
    return 0;
  }
  console.log(`Received ${summaries.length} JWT-SVID${summaries.length === 1 ? '' : 's'} for ${audience.join(', ')}`);
  for (const svid of summaries) {
    console.log(`
SPIFFE ID:      ${svid.spiffeId}${svid.hint ? `\nHint:           ${svid.hint}` : ''}
Expires:        ${svid.expiresAt ?? 'unknown'}
Token:          ${svid.token}`);
  }
  return 0;
}
