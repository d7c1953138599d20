import { X509Certificate } from 'node:crypto';
import type { X509SvidResponse } from '../workload/workload-api/messages';
import { parseOptions, usageError, type Command } from './command';
import { parseOutputFormat, type OutputFormat } from './cli-options';
import { splitDerCertificates } from './der-chain';
import { resolveEndpointSocket } from './endpoint-socket';
import { describeCallError, watchX509 } from './workload-api-client';

const HELP = `Usage: meshid api watch [--socket PATH] [--output json]

Holds a FetchX509SVID stream open and prints every update the agent pushes (the first at once,
then one per rotation): each SPIFFE ID with its serial number and notAfter. Runs until
interrupted (exit 0); exit 1 if the agent ends the stream.
  --output json    one JSON line per update: {"receivedAt","svids":[{"spiffeId","serial","notAfter"}]}`;

export const apiWatchCommand: Command = {
  run(args) {
    const { values, exit } = parseOptions(args, { socket: { type: 'string' }, output: { type: 'string' } }, HELP);
    if (exit !== undefined) return Promise.resolve(exit);
    const output = parseOutputFormat(values.output);
    if (!output) return Promise.resolve(usageError(`--output must be json (or text), got "${String(values.output)}"`));
    const socketPath = resolveEndpointSocket(values.socket as string | undefined, process.env, process.cwd());

    return new Promise((resolve) => {
      let updates = 0;
      const watch = watchX509(
        socketPath,
        (response) => print(response, ++updates, output),
        (error) => {
          console.error(`meshid: watch on ${socketPath} ended: ${error ? describeCallError(error) : 'the agent closed the stream'}`);
          resolve(1);
        },
      );
      const interrupt = (): void => {
        watch.stop();
        resolve(0);
      };
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
    });
  },
};

function print(response: X509SvidResponse, update: number, output: OutputFormat): void {
  const receivedAt = new Date().toISOString();
  const svids = response.svids.map((svid) => {
    const leaf = new X509Certificate(splitDerCertificates(svid.x509_svid)[0] ?? Buffer.alloc(0));
    return { spiffeId: svid.spiffe_id, serial: leaf.serialNumber, notAfter: new Date(leaf.validTo).toISOString() };
  });
  if (output === 'json') {
    console.log(JSON.stringify({ receivedAt, svids }));
    return;
  }
  console.log(`[${receivedAt}] update ${update}: ${svids.length} X.509-SVID${svids.length === 1 ? '' : 's'}`);
  for (const svid of svids) console.log(`  ${svid.spiffeId}  serial ${svid.serial}  notAfter ${svid.notAfter}`);
}
