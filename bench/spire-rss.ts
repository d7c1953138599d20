/**
 * Resident memory of a meshid node (its own process, `meshid run`, mode downstream) beside a
 * spire-agent v1.13.3 on the same spire-server, both serving the same N entries to one workload
 * (this process, uid of the caller) whose open FetchX509SVID stream holds all N SVIDs. Reads
 * VmRSS from /proc once both streams have delivered every SVID. Prints the figures; never a
 * pass/fail.
 *
 *   node dist/bench/spire-rss.js [--entries 100]
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { AgentProcesses } from '../test/support/meshid-cli';
import { makeTempDir, removeTempDirs } from '../test/support/temp-dir';
import { securityHeader, StreamReader, workloadClient, type X509SvidResponse } from '../test/support/workload-client';
import { SpireAgent } from '../test/spire/support/spire-agent';
import { nodeFiles, spireUpstream } from '../test/spire/support/spire-node';
import { SpireServer } from '../test/spire/support/spire-server';

const { values } = parseArgs({ options: { entries: { type: 'string', default: '100' } } });
const count = Number(values.entries);
const self = `unix:uid:${process.getuid?.() ?? 0}`;

async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
}

/** Opens a stream and reads until it carries `count` SVIDs. */
async function holdAll(socketPath: string): Promise<StreamReader<X509SvidResponse>> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const stream = new StreamReader<X509SvidResponse>(workloadClient(socketPath).FetchX509SVID({}, securityHeader()));
    try {
      for (;;) {
        const message = await stream.next(Math.max(1, deadline - Date.now()));
        if (message.svids.length >= count) return stream;
      }
    } catch (error) {
      stream.call.cancel();
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

async function main(): Promise<void> {
  const server = await SpireServer.start({ dir: await makeTempDir('meshid-bench-spire-') });
  const meshidToken = await server.joinToken();
  const agentToken = await server.joinToken();
  await server.createEntry({ parentId: meshidToken.agentId, spiffeId: 'spiffe://example.org/meshid/node', selectors: ['meshid:node'], downstream: true });
  for (let index = 0; index < count; index++) {
    for (const parentId of [meshidToken.agentId, agentToken.agentId]) await server.createEntry({ parentId, spiffeId: `spiffe://example.org/workload-${index}`, selectors: [self] });
  }
  const files = await nodeFiles(server, meshidToken.token);
  const configFile = path.join(files.dir, 'meshid.yaml');
  const socketPath = path.join(files.dir, 'agent.sock');
  await writeFile(configFile, stringify({ trustDomain: 'example.org', dataDir: path.join(files.dir, 'data'), socketPath, admin: { enabled: false }, logLevel: 'info', upstream: spireUpstream(server, files) }));
  const processes = new AgentProcesses();
  const meshid = await processes.start(configFile, socketPath, files.dir);
  const spireAgent = await SpireAgent.start(server, await makeTempDir('meshid-bench-agent-'), agentToken.token);
  const streams = [await holdAll(socketPath), await holdAll(spireAgent.socketPath)];
  const meshidRss = await rssKb(meshid.pid ?? 0);
  const agentRss = await rssKb(spireAgent.pid);
  console.log(`RSS with ${count} SVIDs held and streamed to one workload (same server, same entries):`);
  console.log(`  meshid (node process, mode downstream)  ${(meshidRss / 1024).toFixed(1)} MiB`);
  console.log(`  spire-agent v1.13.3                     ${(agentRss / 1024).toFixed(1)} MiB`);
  for (const stream of streams) stream.call.cancel();
  await processes.stopAll();
  await spireAgent.stop();
  await server.stop();
  await removeTempDirs();
}

void main();
