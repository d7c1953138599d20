import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import pino from 'pino';
import { isMeshidError } from '../../src/errors';
import type { WorkloadAttestor } from '../../src/workload/attestors/workload-attestor';
import { StaticEntrySource } from '../../src/workload/entries';
import { PeerRegistry } from '../../src/workload/peer-identity';
import { WorkloadResolver } from '../../src/workload/workload-resolver';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';

after(removeTempDirs);
const logger = pino({ level: 'silent' });
const entries = new StaticEntrySource([{ spiffeId: 'spiffe://example.org/web', selectors: ['unix:uid:1000'], dnsNames: [] }]);

const statLine = (startTime: number): string => `4242 (web) S 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 ${startTime} 1000 10\n`;

async function procWithProcess(startTime: number): Promise<string> {
  const root = await makeTempDir('meshid-resolver-');
  await mkdir(path.join(root, '4242'));
  await writeFile(path.join(root, '4242', 'stat'), statLine(startTime));
  return root;
}

function resolverWith(procRoot: string, attestors: WorkloadAttestor[]): { resolver: WorkloadResolver; peers: PeerRegistry } {
  const peers = new PeerRegistry();
  peers.register('peer-1', { pid: 4242, uid: 1000, gid: 1000, startTime: 777n });
  return { resolver: new WorkloadResolver({ peers, attestors, entries, procRoot, logger }), peers };
}

const uidAttestor: WorkloadAttestor = { name: 'unix', attest: () => Promise.resolve(['unix:uid:1000']) };

test('the same process before and after attestation gets its entries', async () => {
  const { resolver } = resolverWith(await procWithProcess(777), [uidAttestor]);
  const resolved = await resolver.resolve('peer-1');
  assert.deepEqual(resolved.entries.map((entry) => entry.spiffeId), ['spiffe://example.org/web']);
});

test('a pid reused by another process during attestation is refused (PID-reuse guard)', async () => {
  const procRoot = await procWithProcess(777);
  // The caller exits while being attested and its pid is handed to a new process.
  const racing: WorkloadAttestor = {
    name: 'unix',
    attest: async () => {
      await writeFile(path.join(procRoot, '4242', 'stat'), statLine(999));
      return ['unix:uid:1000'];
    },
  };
  const { resolver } = resolverWith(procRoot, [racing]);
  await assert.rejects(resolver.resolve('peer-1'), (error) => isMeshidError(error, 'PEER_UNVERIFIED') && /replaced/.test(error.message));
});

test('an unknown peer token and a vanished process are refused', async () => {
  const { resolver } = resolverWith(await makeTempDir('meshid-resolver-'), [uidAttestor]);
  await assert.rejects(resolver.resolve('forged-token'), (error) => isMeshidError(error, 'PEER_UNVERIFIED'));
  await assert.rejects(resolver.resolve('peer-1'), (error) => isMeshidError(error, 'PEER_UNVERIFIED'));
});

test('one failing attestor does not block the others; all failing fails the call', async () => {
  const broken: WorkloadAttestor = { name: 'k8s', attest: () => Promise.reject(new Error('kubelet down')) };
  const { resolver } = resolverWith(await procWithProcess(777), [broken, uidAttestor]);
  assert.equal((await resolver.resolve('peer-1')).entries.length, 1);
  const { resolver: allBroken } = resolverWith(await procWithProcess(777), [broken]);
  await assert.rejects(allBroken.resolve('peer-1'), (error) => isMeshidError(error, 'ATTESTATION_FAILED'));
});

test('a workload no entry matches gets NO_IDENTITY', async () => {
  const other: WorkloadAttestor = { name: 'unix', attest: () => Promise.resolve(['unix:uid:2000']) };
  const { resolver } = resolverWith(await procWithProcess(777), [other]);
  await assert.rejects(resolver.resolve('peer-1'), (error) => isMeshidError(error, 'NO_IDENTITY'));
});

test('a caller gone when every attestor failed is PEER_UNVERIFIED, not an unavailable agent', async () => {
  const procRoot = await procWithProcess(777);
  const vanishing: WorkloadAttestor = {
    name: 'unix',
    attest: async () => {
      await rm(path.join(procRoot, '4242'), { recursive: true });
      throw new Error('cannot read status');
    },
  };
  const { resolver } = resolverWith(procRoot, [vanishing]);
  await assert.rejects(resolver.resolve('peer-1'), (error) => isMeshidError(error, 'PEER_UNVERIFIED'));
});
