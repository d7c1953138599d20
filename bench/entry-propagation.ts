/**
 * Time from an entries-file save to the new identity reaching every open FetchX509SVID stream.
 * The agent runs in its own process with a watched entries file; N streams (spread over several
 * channels, as N workloads would be) wait for their first message, then each round saves the file
 * by rename (as editors and ConfigMap updates do) granting a new SPIFFE ID, and every stream's
 * arrival time is recorded. Prints p50/p99/max from the save; never a pass/fail.
 *
 *   node dist/bench/entry-propagation.js [--streams 1000] [--channels 20] [--rounds 5]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_DIR, WORKLOAD_API_PROTO } from '../src/common/proto-files';
import { percentile } from './support/stats';

const { values } = parseArgs({ options: { streams: { type: 'string', default: '1000' }, channels: { type: 'string', default: '20' }, rounds: { type: 'string', default: '5' } } });
const streamCount = Number(values.streams);
const channelCount = Number(values.channels);
const rounds = Number(values.rounds);

interface SvidMessage {
  svids: { spiffe_id: string }[];
}
type Client = grpc.Client & { FetchX509SVID(request: object, metadata: grpc.Metadata): grpc.ClientReadableStream<SvidMessage> };

const definition = protoLoader.loadSync(WORKLOAD_API_PROTO, { keepCase: true, includeDirs: [PROTO_DIR] });
const WorkloadApi = (grpc.loadPackageDefinition(definition) as unknown as { SpiffeWorkloadAPI: grpc.ServiceClientConstructor }).SpiffeWorkloadAPI;

const uid = process.getuid?.() ?? 0;
const entriesYaml = (id: string): string => `- spiffeId: spiffe://example.org/${id}\n  selectors: ["unix:uid:${uid}"]\n`;

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshid-bench-'));
  const socketPath = path.join(dir, 'agent.sock');
  const entriesFile = path.join(dir, 'entries.yaml');
  await writeFile(entriesFile, entriesYaml('round-0'));
  await writeFile(path.join(dir, 'meshid.yaml'), `trustDomain: example.org\ndataDir: ${dir}/data\nsocketPath: ${socketPath}\nlogLevel: warn\nadmin: { enabled: false }\nentriesFile: ${entriesFile}\n`);
  const agent = spawn(process.execPath, [path.join(__dirname, '..', 'src', 'cli', 'main.js'), 'run', '--config', path.join(dir, 'meshid.yaml')], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const metadata = new grpc.Metadata();
    metadata.set('workload.spiffe.io', 'true');
    const clients = Array.from({ length: channelCount }, () => new WorkloadApi(`unix:${socketPath}`, grpc.credentials.createInsecure()) as unknown as Client);
    await waitForAgent(clients[0] as Client, metadata);

    // Each stream reports (index, id) for every message; a round waits for all of them.
    let expectedId = 'spiffe://example.org/round-0';
    let arrivals: number[] = [];
    let onComplete: (() => void) | undefined;
    const pending = new Set<number>();
    const calls = Array.from({ length: streamCount }, (_, index) => {
      const call = (clients[index % channelCount] as Client).FetchX509SVID({}, metadata);
      pending.add(index);
      call.on('data', (message: SvidMessage) => {
        if (message.svids[0]?.spiffe_id !== expectedId || !pending.delete(index)) return;
        arrivals.push(performance.now());
        if (pending.size === 0) onComplete?.();
      });
      call.on('error', () => undefined);
      return call;
    });
    await new Promise<void>((resolve) => (pending.size === 0 ? resolve() : (onComplete = resolve)));
    console.log(`${streamCount} streams open over ${channelCount} connections`);

    const p50s: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      expectedId = `spiffe://example.org/round-${round}`;
      arrivals = [];
      for (let index = 0; index < streamCount; index++) pending.add(index);
      const done = new Promise<void>((resolve) => (onComplete = resolve));
      const temp = `${entriesFile}.tmp`;
      await writeFile(temp, entriesYaml(`round-${round}`));
      const savedAt = performance.now();
      await rename(temp, entriesFile);
      await done;
      const latencies = arrivals.map((at) => at - savedAt);
      p50s.push(percentile(latencies, 50));
      console.log(
        `round ${round}: first ${Math.min(...latencies).toFixed(1)} ms, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, last ${Math.max(...latencies).toFixed(1)} ms`,
      );
    }
    console.log(`entry change → ${streamCount} streams: median of round p50s ${percentile(p50s, 50).toFixed(1)} ms (includes the file watch and its 50 ms debounce)`);
    for (const call of calls) call.cancel();
    for (const client of clients) client.close();
  } finally {
    agent.kill('SIGTERM');
  }
}

async function waitForAgent(client: Client, metadata: grpc.Metadata): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const ok = await new Promise<boolean>((resolve) => {
      const call = client.FetchX509SVID({}, metadata);
      call.once('data', () => {
        call.cancel();
        resolve(true);
      });
      call.once('error', (error: grpc.ServiceError) => resolve(error.code === grpc.status.CANCELLED));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('agent did not start');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
