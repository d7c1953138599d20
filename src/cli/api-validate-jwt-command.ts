import { fromStruct } from '../workload/workload-api/protobuf-struct';
import { parseOptions, usageError, type Command } from './command';
import { parseOutputFormat, parseTimeoutMs } from './cli-options';
import { resolveEndpointSocket } from './endpoint-socket';
import { describeCallError, validateJwtSvid } from './workload-api-client';

const HELP = `Usage: meshid api validate jwt --audience AUD --svid TOKEN [--socket PATH] [--timeout 10s] [--output json]

Asks the agent to validate a JWT-SVID against its trust bundle for one audience.
Exit 0 when valid (prints the SPIFFE ID and the claims), 1 when not (prints the reason).
  --output json    {"spiffeId": ..., "claims": {...}} on success`;

export const apiValidateJwtCommand: Command = {
  async run(args) {
    const { values, exit } = parseOptions(args, { audience: { type: 'string' }, svid: { type: 'string' }, socket: { type: 'string' }, timeout: { type: 'string' }, output: { type: 'string' } }, HELP);
    if (exit !== undefined) return exit;
    if (typeof values.audience !== 'string' || values.audience === '') return usageError(`--audience is required\n\n${HELP}`);
    if (typeof values.svid !== 'string' || values.svid === '') return usageError(`--svid is required\n\n${HELP}`);
    const output = parseOutputFormat(values.output);
    if (!output) return usageError(`--output must be json (or text), got "${String(values.output)}"`);
    const timeoutMs = parseTimeoutMs(values.timeout, 10_000);
    if (timeoutMs === undefined) return usageError(`--timeout must be a duration such as 5s, got "${String(values.timeout)}"`);
    const socketPath = resolveEndpointSocket(values.socket as string | undefined, process.env, process.cwd());

    let response;
    try {
      response = await validateJwtSvid(socketPath, { audience: values.audience, svid: values.svid }, timeoutMs);
    } catch (error) {
      console.error(`meshid: ${describeCallError(error)}`);
      return 1;
    }
    const claims = fromStruct(response.claims);
    if (output === 'json') {
      console.log(JSON.stringify({ spiffeId: response.spiffe_id, claims }));
      return 0;
    }
    console.log(`Valid JWT-SVID for ${values.audience}

SPIFFE ID:      ${response.spiffe_id}
Claims:         ${JSON.stringify(claims, null, 2).replace(/\n/g, '\n                ')}`);
    return 0;
  },
};
