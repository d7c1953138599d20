/**
 * Time from `spire-server entry create` returning to the new SPIFFE ID arriving on an open
 * FetchX509SVID stream of a meshid node joined to a real spire-server (v1.13.3, SQLite, loopback).
 * The path is: the server's authorized-entry cache refresh (`cache_reload_interval`, 1 s here;
 * 5 s by default) + the node's sync interval (`--sync`, meshid's default 5 s) + minting + push. So
 * the figures are dominated by the two intervals, as they are for spire-agent. Prints
 * p50/p99/max; never a pass/fail.
 *
 *   node dist/bench/spire-entry-propagation.js [--rounds 20] [--sync 5s] [--mode downstream|server-signed]
 */
import { parseArgs } from 'node:util';
import { securityHeader, StreamReader, workloadClient, type X509SvidResponse } from '../test/support/workload-client';
import { makeTempDir, removeTempDirs } from '../test/support/temp-dir';
import { startTestAgent } from '../test/support/agent-harness';
import { nodeFiles, spireUpstream } from '../test/spire/support/spire-node';
import { SpireServer } from '../test/spire/support/spire-server';
import { parseDuration } from '../src/agent/config/duration';
import { percentile } from './support/stats';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' }, sync: { type: 'string', default: '5s' }, mode: { type: 'string', default: 'downstream' } } });
const rounds = Number(values.rounds);
const syncMs = parseDuration(values.sync) ?? 5_000;
const self = `unix:uid:${process.getuid?.() ?? 0}`;

async function main(): Promise<void> {
  const server = await SpireServer.start({ dir: await makeTempDir('meshid-bench-spire-') });
  const { token, agentId } = await server.joinToken();
  if (values.mode === 'downstream') await server.createEntry({ parentId: agentId, spiffeId: 'spiffe://example.org/meshid/node', selectors: ['meshid:node'], downstream: true });
  await server.createEntry({ parentId: agentId, spiffeId: 'spiffe://example.org/round-0', selectors: [self] });
  const files = await nodeFiles(server, token);
  const node = await startTestAgent({ trustDomain: 'example.org', upstream: { ...spireUpstream(server, files, values.mode), syncInterval: values.sync } });
  const client = workloadClient(node.socketPath);
  let stream: StreamReader<X509SvidResponse> | undefined;
  while (!stream) {
    const candidate = new StreamReader<X509SvidResponse>(client.FetchX509SVID({}, securityHeader()));
    try {
      await candidate.next(2_000);
      stream = candidate;
    } catch {
      candidate.call.cancel();
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  const samples: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const id = `spiffe://example.org/round-${round}`;
    // A random phase against the sync timer: back-to-back rounds would all land just after a sync.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * syncMs));
    await server.createEntry({ parentId: agentId, spiffeId: id, selectors: [self] });
    const created = performance.now();
    for (;;) {
      const message = await stream.next(60_000);
      if (message.svids.some((svid) => svid.spiffe_id === id)) break;
    }
    samples.push(performance.now() - created);
  }
  const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  console.log(`spire entry → SVID on an open stream, mode ${values.mode}, node sync ${values.sync}, server cache_reload_interval 1s, ${rounds} rounds`);
  console.log(`  p50 ${fmt(percentile(samples, 50))}  p99 ${fmt(percentile(samples, 99))}  max ${fmt(Math.max(...samples))}`);
  stream.call.cancel();
  client.close();
  await node.agent.stop();
  await server.stop();
  await removeTempDirs();
}

void main();
