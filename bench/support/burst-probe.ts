/**
 * The health probes of bench/connect-burst.ts, in their own process (as the kubelet and
 * `meshid healthcheck` are), so the burst's clients do not delay them: in a loop, the admin
 * /ready (the DaemonSet's readiness probe) and FetchX509Bundles on a new connection (what
 * `meshid healthcheck` calls). Prints one JSON line of latencies when its stdin closes.
 *
 *   node dist/bench/support/burst-probe.js <socketPath> <adminPort>
 */
import http from 'node:http';
import { firstMessageMs } from './fresh-connection';

const [socketPath = '', port = '0'] = process.argv.slice(2);
const ready: number[] = [];
const health: number[] = [];
const failures: string[] = [];
let running = true;
process.stdin.on('data', () => undefined);
process.stdin.once('end', () => (running = false));

function readyMs(): Promise<number> {
  const started = performance.now();
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port: Number(port), path: '/ready', agent: false }, (response) => {
      response.resume();
      response.once('end', () => resolve(performance.now() - started));
    });
    request.once('error', (error) => {
      failures.push(`ready: ${error.message}`);
      resolve(Number.NaN);
    });
  });
}

async function loop(probe: () => Promise<number>, into: number[]): Promise<void> {
  while (running) {
    const ms = await probe();
    if (!Number.isNaN(ms)) into.push(ms);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

void Promise.all([
  loop(readyMs, ready),
  loop(
    () =>
      firstMessageMs(socketPath, 'FetchX509Bundles', 30_000).catch((error: Error) => {
        failures.push(`health: ${error.message}`);
        return Number.NaN;
      }),
    health,
  ),
]).then(() => {
  process.stdout.write(`${JSON.stringify({ ready, health, failures })}\n`);
  process.exit(0);
});
