import { Command } from '@commander-js/extra-typings';
import { X509Certificate } from 'node:crypto';
import type { X509SvidResponse } from '../workload-api/messages';
import { outputOption, socketOption, type OutputFormat } from './cli-options';
import { splitDerCertificates } from './der-chain';
import { resolveEndpointSocket } from './endpoint-socket';
import { exitWith } from './usage-error';
import { describeCallError, watchX509 } from './workload-api-client';

export function apiWatchCommand() {
  return new Command('watch')
    .summary('print every X.509-SVID update until interrupted')
    .description(
      `Holds a FetchX509SVID stream open and prints every update the agent pushes (the first at once, then one per rotation): each SPIFFE ID with its serial number and notAfter. Runs until interrupted (exit 0); exit 1 if the agent ends the stream.`,
    )
    .addOption(socketOption())
    .addOption(outputOption())
    .addHelpText('after', '\n--output json prints one JSON line per update: {"receivedAt","svids":[{"spiffeId","serial","notAfter"}]}')
    .action(async (options) => exitWith(await watch(options)));
}

function watch(options: { socket?: string; output: OutputFormat }): Promise<number> {
  const socketPath = resolveEndpointSocket(options.socket, process.env, process.cwd());
  return new Promise((resolve) => {
    let updates = 0;
    const stream = watchX509(
      socketPath,
      (response) => print(response, ++updates, options.output),
      (error) => {
        console.error(`meshid: watch on ${socketPath} ended: ${error ? describeCallError(error) : 'the agent closed the stream'}`);
        resolve(1);
      },
    );
    const interrupt = (): void => {
      stream.stop();
      resolve(0);
    };
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
  });
}

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
