import { Command } from '@commander-js/extra-typings';
import { X509Certificate } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { formatDuration } from '../agent/config/duration';
import { Backoff } from '../common/backoff';
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
      `Holds a FetchX509SVID stream open and prints every update the agent pushes (the first at once, then one per rotation): each SPIFFE ID with its serial number and notAfter. Runs until interrupted (exit 0); exit 1 if the first connection fails. Once updates flow, a stream the agent ends (restart, upgrade) is reopened with backoff (1 s up to 30 s) and the watch goes on; each reconnect is one line on stderr.`,
    )
    .addOption(socketOption())
    .addOption(outputOption())
    .addHelpText('after', '\n--output json prints one JSON line per update: {"receivedAt","svids":[{"spiffeId","serial","notAfter"}]}')
    .action(async (options) => exitWith(await watch(options)));
}

/** Reconnect delays after an established watch ends: 1 s doubling to 30 s, jittered (go-spiffe's watcher retries the same way). */
const RECONNECT_INITIAL_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;

/**
 * Once the first update has arrived, a stream the agent ends (a restart or upgrade: UNAVAILABLE;
 * an entry withdrawn: PERMISSION_DENIED) is reopened with backoff, as SPIFFE libraries do, and
 * the watch goes on. Only INVALID_ARGUMENT (a request the agent will never accept) ends it then.
 * A first connection that fails ends the watch at once (exit 1), so a wrong socket path is
 * reported instead of retried forever.
 */
function watch(options: { socket?: string; output: OutputFormat }): Promise<number> {
  const socketPath = resolveEndpointSocket(options.socket, process.env, process.cwd());
  const backoff = new Backoff(RECONNECT_INITIAL_MS, RECONNECT_MAX_MS);
  return new Promise((resolve) => {
    let updates = 0;
    let stream: { stop(): void } | undefined;
    let retry: NodeJS.Timeout | undefined;
    const open = (): void => {
      let receivedOnThisStream = false;
      stream = watchX509(
        socketPath,
        (response) => {
          receivedOnThisStream = true;
          backoff.reset();
          print(response, ++updates, options.output);
        },
        (error) => {
          const ended = `meshid: watch on ${socketPath} ended: ${error ? describeCallError(error) : 'the agent closed the stream'}`;
          if (updates === 0 || error?.code === GrpcStatus.INVALID_ARGUMENT) {
            console.error(ended);
            resolve(1);
            return;
          }
          const delayMs = receivedOnThisStream ? RECONNECT_INITIAL_MS : backoff.nextDelayMs();
          console.error(`${ended}; reconnecting in ${formatDuration(Math.round(delayMs))}`);
          retry = setTimeout(open, delayMs);
        },
      );
    };
    open();
    const interrupt = (): void => {
      clearTimeout(retry);
      stream?.stop();
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
