import { parseOptions, usageError, type Command } from './command';
import { parseOutputFormat, parseTimeoutMs, unverifiedClaims } from './cli-options';
import { resolveEndpointSocket } from './endpoint-socket';
import { describeCallError, fetchJwtSvids } from './workload-api-client';

const HELP = `Usage: meshid api fetch jwt --audience AUD [--audience AUD2 ...] [--spiffe-id ID]
                            [--socket PATH] [--timeout 10s] [--output json]

Fetches JWT-SVIDs for this process over the SPIFFE Workload API: one per identity it holds, or
only the one named by --spiffe-id.
  --audience AUD   an audience the tokens are for (required; repeat for several)
  --spiffe-id ID   only this identity (refused if this process does not hold it)
  --socket PATH    agent socket (default: $SPIFFE_ENDPOINT_SOCKET, else ./.meshid/agent.sock)
  --timeout T      give up after T (default 10s)
  --output json    one JSON document: {"svids":[{"spiffeId","hint","expiresAt","token"}]}`;

export const apiFetchJwtCommand: Command = {
  async run(args) {
    const { values, exit } = parseOptions(
      args,
      { audience: { type: 'string', multiple: true }, 'spiffe-id': { type: 'string' }, socket: { type: 'string' }, timeout: { type: 'string' }, output: { type: 'string' } },
      HELP,
    );
    if (exit !== undefined) return exit;
    const audience = (values.audience as unknown as string[] | undefined) ?? [];
    if (audience.length === 0) return usageError(`--audience is required\n\n${HELP}`);
    const output = parseOutputFormat(values.output);
    if (!output) return usageError(`--output must be json (or text), got "${String(values.output)}"`);
    const timeoutMs = parseTimeoutMs(values.timeout, 10_000);
    if (timeoutMs === undefined) return usageError(`--timeout must be a duration such as 5s, got "${String(values.timeout)}"`);
    const socketPath = resolveEndpointSocket(values.socket as string | undefined, process.env, process.cwd());

    let svids;
    try {
      ({ svids } = await fetchJwtSvids(socketPath, { audience, spiffe_id: (values['spiffe-id'] as string | undefined) ?? '' }, timeoutMs));
    } catch (error) {
      console.error(`meshid: fetch from ${socketPath} failed: ${describeCallError(error)}`);
      return 1;
    }
    const summaries = svids.map((svid) => {
      const exp = unverifiedClaims(svid.svid).exp;
      return { spiffeId: svid.spiffe_id, hint: svid.hint, expiresAt: typeof exp === 'number' ? new Date(exp * 1000).toISOString() : null, token: svid.svid };
    });
    if (output === 'json') {
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
  },
};
