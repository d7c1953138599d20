/**
 * A minting storm (an agent restart on a busy node: every SVID minted at once) must not stall the
 * event loop. The agent runs in its own process with N entries granting this uid N identities;
 * one FetchX509SVID call makes it mint all N at once, while a second connection keeps asking for
 * the trust bundle (FetchX509Bundles, which needs attestation but no minting) and records each
 * answer's latency. Prints the storm's duration and the bystander's latency during the storm next
 * to its latency when idle; never a pass/fail. Worst case on purpose: the bystander runs as the
 * same uid, so its attestation matches all N entries, and the storm's answer is one N-SVID message.
 * BENCH_PROF=<dir> writes a CPU profile of the agent there.
 *
 *   node dist/bench/storm.js [--svids 2000]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { firstMessageMs, WorkloadApi } from './support/fresh-connection';
import { percentile } from './support/stats';

const { values } = parseArgs({ options: { svids: { type: 'string', default: '2000' } } });
const svidCount = Number(values.svids);

type Client = grpc.Client & {
  FetchX509SVID(request: object, metadata: grpc.Metadata): grpc.ClientReadableStream<{ svids: unknown[] }>;
};
const metadata = new grpc.Metadata();
metadata.set('workload.spiffe.io', 'true');


async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshid-bench-'));
  const socketPath = path.join(dir, 'agent.sock');
  const uid = process.getuid?.() ?? 0;
  const entries = Array.from({ length: svidCount }, (_, i) => `  - spiffeId: spiffe://example.org/storm/${i}\n    selectors: ["unix:uid:${uid}"]\n`).join('');
  await writeFile(path.join(dir, 'meshid.yaml'), `trustDomain: example.org\ndataDir: ${dir}/data\nsocketPath: ${socketPath}\nlogLevel: warn\nadmin: { enabled: false }\nentries:\n${entries}`);
  const agent = spawn(process.execPath, [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROF] : []), path.join(__dirname, '..', 'src', 'cli', 'main.js'), 'run', '--config', path.join(dir, 'meshid.yaml')], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await firstMessageMs(socketPath, 'FetchX509Bundles');
        break;
      } catch (error) {
        if (attempt > 200) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    const idle: number[] = [];
    for (let i = 0; i < 50; i++) idle.push(await firstMessageMs(socketPath, 'FetchX509Bundles'));

    // The storm: one call for all N identities (the message carries N SVIDs, hence no size cap).
    const stormClient = new WorkloadApi(`unix:${socketPath}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 }) as unknown as Client;
    const stormStarted = performance.now();
    let stormEnded = 0;
    const storm = new Promise<number>((resolve, reject) => {
      const call = stormClient.FetchX509SVID({}, metadata);
      call.once('data', (message) => {
        stormEnded = performance.now();
        resolve(message.svids.length);
        call.cancel();
      });
      call.once('error', (error: grpc.ServiceError) => {
        if (error.code !== grpc.status.CANCELLED) reject(error);
      });
    });
    const during: number[] = [];
    while (stormEnded === 0) during.push(await firstMessageMs(socketPath, 'FetchX509Bundles'));
    const minted = await storm;
    stormClient.close();

    const stormMs = stormEnded - stormStarted;
    const row = (name: string, samples: number[]): string =>
      `${name.padEnd(24)} n=${String(samples.length).padStart(3)}  p50 ${percentile(samples, 50).toFixed(2)} ms  p99 ${percentile(samples, 99).toFixed(2)} ms  max ${Math.max(...samples).toFixed(2)} ms`;
    console.log(`storm: ${minted} SVIDs minted and delivered in one message after ${stormMs.toFixed(0)} ms (${((minted / stormMs) * 1000).toFixed(0)} SVIDs/s end to end)`);
    console.log(row('bystander, idle', idle));
    console.log(row('bystander, during storm', during));
  } finally {
    agent.kill('SIGTERM');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
