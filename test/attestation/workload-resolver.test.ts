import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import pino from 'pino';
import { isMeshidError } from '../../src/common/errors';
import type { WorkloadAttestor } from '../../src/attestation/attestors/workload-attestor';
import { StaticEntrySource } from '../../src/entries/entries';
import { PeerRegistry } from '../../src/attestation/peer-identity';
import { WorkloadResolver } from '../../src/attestation/workload-resolver';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';

after(removeTempDirs);
const logger = pino({ level: 'silent' });
const entries = new StaticEntrySource([{ spiffeId: 'spiffe://example.org/web', selectors: ['unix:uid:1000'], dnsNames: [] }]);

const statLine = (startTime: number, state = 'S'): string => `4242 (web) ${state} 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 ${startTime} 1000 10\n`;
const statusLines = (uids: string, gids: string): string => `Name:\tweb\nUid:\t${uids}\nGid:\t${gids}\nGroups:\t\n`;
const CONNECTED_STATUS = statusLines('1000\t1000\t1000\t1000', '1000\t1000\t1000\t1000');

async function procWithProcess(startTime: number): Promise<string> {
  const root = await makeTempDir('meshid-resolver-');
  await mkdir(path.join(root, '4242'));
  await writeFile(path.join(root, '4242', 'stat'), statLine(startTime));
  await writeFile(path.join(root, '4242', 'status'), CONNECTED_STATUS);
  return root;
}

function resolverWith(procRoot: string, attestors: WorkloadAttestor[], refusals: string[] = []): { resolver: WorkloadResolver; peers: PeerRegistry } {
  const peers = new PeerRegistry();
  const ids = { uids: [1000, 1000, 1000, 1000], gids: [1000, 1000, 1000, 1000], supplementaryGids: [] };
  peers.register('peer-1', { pid: 4242, uid: 1000, gid: 1000, process: { startTime: 777n, state: 'S', ids, executable: undefined }, handle: undefined });
  const onConnectorRefused = (refusal: string): number => refusals.push(refusal);
  return { resolver: new WorkloadResolver({ peers, attestors, entries, procRoot, logger, onConnectorRefused }), peers };
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
  await assert.rejects(resolver.resolve('peer-1'), (error) => isMeshidError(error, 'PEER_UNVERIFIED') && /now names another process/.test(error.message));
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

// The process behind a connection changes after connect; each case is refused before any
// attestor runs, and counted by its reason.
for (const [label, stat, status, refusal] of [
  ['a setuid-root exec (effective and saved uid 0)', statLine(777), statusLines('1000\t0\t0\t0', '1000\t1000\t1000\t1000'), 'credentials_changed'],
  ['a setgid exec', statLine(777), statusLines('1000\t1000\t1000\t1000', '1000\t42\t42\t42'), 'credentials_changed'],
  ['a privilege drop to another uid', statLine(777), statusLines('65534\t65534\t65534\t65534', '1000\t1000\t1000\t1000'), 'credentials_changed'],
  ['a zombie (state Z)', statLine(777, 'Z'), CONNECTED_STATUS, 'zombie'],
  ['a reused pid', statLine(999), CONNECTED_STATUS, 'replaced'],
] as const) {
  test(`refused before attestation: ${label}`, async () => {
    const procRoot = await procWithProcess(777);
    await writeFile(path.join(procRoot, '4242', 'stat'), stat);
    await writeFile(path.join(procRoot, '4242', 'status'), status);
    let attested = false;
    const spy: WorkloadAttestor = { name: 'unix', attest: () => ((attested = true), Promise.resolve(['unix:uid:1000'])) };
    const refusals: string[] = [];
    const { resolver } = resolverWith(procRoot, [spy], refusals);
    await assert.rejects(resolver.resolve('peer-1'), (error) => isMeshidError(error, 'PEER_UNVERIFIED'));
    assert.equal(attested, false, 'no attestor ran');
    assert.deepEqual(refusals, [refusal]);
  });
}

test('a setuid exec during attestation is refused after it', async () => {
  const procRoot = await procWithProcess(777);
  const execing: WorkloadAttestor = {
    name: 'unix',
    attest: async () => {
      await writeFile(path.join(procRoot, '4242', 'status'), statusLines('1000\t0\t0\t0', '1000\t1000\t1000\t1000'));
      return ['unix:uid:1000'];
    },
  };
  const { resolver } = resolverWith(procRoot, [execing]);
  await assert.rejects(resolver.resolve('peer-1'), (error) => isMeshidError(error, 'PEER_UNVERIFIED') && /setuid/.test(error.message));
});
