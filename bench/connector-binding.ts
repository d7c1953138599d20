/**
 * What binding a call to its connector costs (issue 13): the check every call, every stream
 * message and every SDS request runs (src/attestation/connector-binding.ts), and the accept-time
 * record (pidfd + /proc snapshot), measured on a live unix-socket connection from this process.
 * Prints figures only.
 *
 *   node dist/bench/connector-binding.js [--iterations 20000]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { verifyConnector } from '../src/attestation/connector-binding';
import { readConnectorSnapshot } from '../src/attestation/connector-snapshot';
import { readPeerCredentials } from '../src/attestation/peer-credentials';
import type { PeerIdentity } from '../src/attestation/peer-identity';
import { ProcessHandle } from '../src/attestation/process-handle';
import { percentile } from './support/stats';

function timeEach(count: number, run: () => void): number[] {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    run();
    samples.push(Number(process.hrtime.bigint() - started) / 1e3);
  }
  return samples;
}

function line(label: string, samples: number[]): string {
  return `${label.padEnd(44)} p50 ${percentile(samples, 50).toFixed(1).padStart(6)} µs   p99 ${percentile(samples, 99).toFixed(1).padStart(6)} µs`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { iterations: { type: 'string', default: '20000' } } });
  const iterations = Number(values.iterations);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshid-bench-binding-'));
  const socketPath = path.join(dir, 'bench.sock');
  const accepted = new Promise<net.Socket>((resolve) => {
    const server = net.createServer((socket) => resolve(socket));
    server.listen(socketPath, () => net.connect(socketPath));
  });
  const socket = await accepted;
  const credentials = readPeerCredentials(socket);

  const record = timeEach(iterations / 10, () => {
    ProcessHandle.forConnector(socket, credentials.pid)?.close();
    readConnectorSnapshot('/proc', credentials.pid);
  });
  const peer: PeerIdentity = { ...credentials, process: readConnectorSnapshot('/proc', credentials.pid), handle: ProcessHandle.forConnector(socket, credentials.pid) };
  const verify = timeEach(iterations, () => verifyConnector('/proc', peer));

  process.stdout.write(`connector binding, ${iterations} checks, pidfd ${peer.handle ? 'held (SO_PEERPIDFD)' : 'unavailable'}\n`);
  process.stdout.write(`${line('at accept: pidfd + /proc snapshot', record)}\n`);
  process.stdout.write(`${line('per call / message: verifyConnector', verify)}\n`);
  peer.handle?.close();
  await rm(dir, { recursive: true, force: true });
  process.exit(0);
}

void main();
