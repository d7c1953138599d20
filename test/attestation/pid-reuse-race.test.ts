import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { UnixAttestor } from '../../src/attestation/attestors/unix-attestor';
import type { WorkloadAttestor } from '../../src/attestation/attestors/workload-attestor';
import { startAttestingServer, type AttestingServer } from '../support/attesting-server';
import { listenForReports, type ReportSocket } from '../support/report-socket';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { assertReadableBy, NOT_ROOT } from '../support/workload-process';

const CONNECTOR = path.join(__dirname, '..', 'support', 'handoff-connector-main.js');
const CALLER = path.join(__dirname, '..', 'support', 'inherited-socket-caller-main.js');
const PROTO = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'e2e', 'workload.proto');
const ENTRY = { spiffeId: 'spiffe://example.org/race', selectors: ['unix:uid:1000'], dnsNames: [] };

interface CallerResult {
  status?: number;
  details?: string;
  spiffeIds?: string[];
  error?: string;
}

/** Starts a connector under uid 1000 that hands its connection to a caller (see the mains). */
function startConnector(socketPath: string, reportPath: string, mode: 'wait' | 'exit'): ChildProcess {
  return spawn(process.execPath, [CONNECTOR, socketPath, reportPath, mode], { uid: 1000, gid: 1000, stdio: ['ignore', 'ignore', 'inherit'] });
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

// The caller that connected is not the process that makes the call: the connection is handed to a
// child and the connector dies. The kernel's credentials still name the dead connector, whose pid
// is free for reuse, so no identity may be issued on that connection.
describe('PID-reuse guard against a really dying caller', { skip: NOT_ROOT }, () => {
  const unix = new UnixAttestor({ procRoot: '/proc', hashBinaries: false });
  let attesting = deferred<number>();
  let connectorGone = deferred<void>();
  let holdAttestation = false;
  let server: AttestingServer;
  let reports: ReportSocket;

  // Attests for real, then (when the test asks) waits until the test has killed the caller.
  const racing: WorkloadAttestor = {
    name: 'unix',
    async attest(subject) {
      const selectors = await unix.attest(subject);
      attesting.resolve(subject.pid);
      if (holdAttestation) await connectorGone.promise;
      return selectors;
    },
  };

  before(async () => {
    await assertReadableBy(1000, [CONNECTOR, CALLER, PROTO, require.resolve('protobufjs')]);
    server = await startAttestingServer([racing], [ENTRY]);
    reports = await listenForReports(await makeTempDir('meshid-race-'));
  });
  after(async () => {
    await server?.stop();
    await reports?.close();
    await removeTempDirs();
  });

  test('control: a live connector gets the identity on the handed-off connection', async () => {
    attesting = deferred();
    holdAttestation = false;
    const connector = startConnector(server.socketPath, reports.path, 'wait');
    assert.equal(await attesting.promise, connector.pid, 'the agent attests the connector, not the caller');
    const outcome = await reports.next<CallerResult>();
    assert.deepEqual(outcome.spiffeIds, [ENTRY.spiffeId], JSON.stringify(outcome));
  });

  test('killed during attestation: UNAUTHENTICATED, not an identity', async () => {
    attesting = deferred();
    connectorGone = deferred();
    holdAttestation = true;
    const connector = startConnector(server.socketPath, reports.path, 'wait');
    const exited = once(connector, 'exit');
    assert.equal(await attesting.promise, connector.pid);
    connector.kill('SIGKILL');
    await exited; // reaped: /proc/<pid> is gone and the pid may be handed out again
    connectorGone.resolve();
    const outcome = await reports.next<CallerResult>();
    assert.equal(outcome.status, status.UNAUTHENTICATED, JSON.stringify(outcome));
    assert.match(outcome.details ?? '', /connecting process \d+ has exited/);
    assert.equal(outcome.spiffeIds, undefined);
  });

  test('exited before its call arrived: UNAUTHENTICATED, never UNAVAILABLE or an identity', async () => {
    attesting = deferred();
    holdAttestation = false;
    const connector = startConnector(server.socketPath, reports.path, 'exit');
    const [{ readyPid }] = await Promise.all([reports.next<{ readyPid: number }>(), once(connector, 'exit')]);
    process.kill(readyPid, 'SIGUSR2'); // the connector has exited and been reaped: now call
    const outcome = await reports.next<CallerResult>();
    assert.equal(outcome.status, status.UNAUTHENTICATED, JSON.stringify(outcome));
    assert.match(outcome.details ?? '', /connecting process \d+ has exited/);
  });
});
