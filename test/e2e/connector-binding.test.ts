import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { access, chmod } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { createInterface } from 'node:readline';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { FakeClock } from '../support/fake-clock';
import type { CallerReport } from '../support/inherited-rpc-caller-main';
import { scrapeMetric } from '../support/prometheus';
import { listenForReports, type ReportSocket } from '../support/report-socket';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { assertReadableBy, NOT_ROOT } from '../support/workload-process';

// issue 13: a connection's identity belongs to the process that connected, as it was then.
// Every scenario runs real processes under real uids; the python script builds the attack
// (test/fixtures/connector/connector.py) and the caller tries all six identity-bearing RPCs.
const CONNECTOR = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'connector', 'connector.py');
const CALLER = path.join(__dirname, '..', 'support', 'inherited-rpc-caller-main.js');
const RPCS = ['FetchX509SVID', 'FetchX509Bundles', 'FetchJWTSVID', 'StreamSecrets', 'FetchSecrets', 'DeltaSecrets'];

describe('a connection is bound to the process that connected', { skip: NOT_ROOT }, () => {
  let harness: Harness;
  let reports: ReportSocket;
  let scratch: string;
  const started: ChildProcess[] = [];

  before(async () => {
    for (const uid of [1000, 1001]) await assertReadableBy(uid, [CONNECTOR, CALLER, require.resolve('protobufjs')]);
    harness = await startTestAgent({
      entries: [
        { spiffeId: 'spiffe://example.org/root-only', selectors: ['unix:uid:0'] },
        { spiffeId: 'spiffe://example.org/user-1000', selectors: ['unix:uid:1000'] },
        { spiffeId: 'spiffe://example.org/sleep-binary', selectors: ['unix:path:/usr/bin/sleep'] },
      ],
    });
    scratch = await makeTempDir('meshid-binding-');
    reports = await listenForReports(scratch);
    // The receiver (uid 1001) binds its hand-off socket here.
    await chmod(scratch, 0o1777);
  });
  after(async () => {
    for (const child of started) child.kill('SIGKILL');
    await Promise.all(started.filter((child) => child.exitCode === null && child.signalCode === null).map((child) => once(child, 'exit')));
    await reports?.close();
    await harness?.agent.stop();
    await removeTempDirs();
  });

  /** Runs connector.py under `uid`; its stdin stays open (a setuid `su` waits at its prompt). */
  function connector(uid: number, args: string[]): ChildProcess {
    // Debian's interpreter: a pyenv python3 under /root is out of reach of other uids.
    const child = spawn('/usr/bin/python3', [CONNECTOR, ...args], { uid, gid: uid, stdio: ['pipe', 'ignore', 'inherit'] });
    child.once('error', (error) => reportFailure(`connector.py did not start: ${error.message}`));
    started.push(child);
    return child;
  }

  // A report that never comes fails the test instead of hanging the run.
  let reportFailure: (reason: string) => void = () => undefined;
  function nextReport(): Promise<CallerReport> {
    return new Promise<CallerReport>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no report from the caller within 30 s')), 30_000);
      reportFailure = (reason) => reject(new Error(reason));
      reports.next<CallerReport>().then(resolve, reject).finally(() => clearTimeout(timer));
    });
  }

  const execAttack = (until: string, program: string[]): ChildProcess => connector(1000, ['exec', harness.socketPath, reports.path, process.execPath, CALLER, until, ...program]);

  function assertAllRefused(report: CallerReport, reason: RegExp): void {
    assert.deepEqual(Object.keys(report).sort(), [...RPCS].sort());
    for (const rpc of RPCS) {
      const outcome = report[rpc];
      assert.equal(outcome?.messages, 0, `${rpc} sent nothing: ${JSON.stringify(outcome)}`);
      assert.equal(outcome?.status, status.UNAUTHENTICATED, `${rpc}: ${JSON.stringify(outcome)}`);
      assert.match(outcome?.details ?? '', reason, rpc);
    }
  }

  const refusals = (result: string): Promise<number | undefined> => scrapeMetric(harness.agent.adminAddress, `meshid_attestations_total{attestor="connector",result="${result}"}`);

  test('the connector execs setuid-root `mount --version` and is left a zombie: every RPC is UNAUTHENTICATED', async () => {
    execAttack('zombie', ['/bin/mount', '--version']);
    assertAllRefused(await nextReport(), /terminated|zombie/);
    assert.ok(((await refusals('zombie')) ?? 0) >= RPCS.length);
  });

  test('the connector execs setuid-root `su`, alive at its password prompt: every RPC is UNAUTHENTICATED', async () => {
    const attacker = execAttack('setuid', ['/bin/su', '-c', 'true']);
    assertAllRefused(await nextReport(), /setuid or setgid exec/);
    assert.ok(((await refusals('credentials_changed')) ?? 0) >= RPCS.length);
    attacker.stdin?.end();
  });

  test('the connector execs /usr/bin/sleep, named by a unix:path entry: refused, not lent that identity', async () => {
    execAttack('comm:sleep', ['/usr/bin/sleep', '30']);
    assertAllRefused(await nextReport(), /executed another program/);
    assert.ok(((await refusals('exec')) ?? 0) >= RPCS.length);
  });

  test('SCM_RIGHTS hand-off to uid 1001 from a zombie connector: refused', async () => {
    const handoff = path.join(scratch, 'handoff-zombie.sock');
    connector(1001, ['receive', handoff, reports.path, process.execPath, CALLER, 'zombie']);
    await untilExists(handoff);
    connector(1000, ['send', harness.socketPath, handoff, 'exit']);
    assertAllRefused(await nextReport(), /terminated|zombie/);
  });

  test('SCM_RIGHTS hand-off from a live connector: the connector’s identity (the SO_PEERCRED contract)', async () => {
    const handoff = path.join(scratch, 'handoff-live.sock');
    connector(1001, ['receive', handoff, reports.path, process.execPath, CALLER, 'now']);
    await untilExists(handoff);
    connector(1000, ['send', harness.socketPath, handoff, 'stay']);
    const report = await nextReport();
    // uid 1001 has no entry: anything served here was served as the connector, uid 1000.
    for (const rpc of RPCS) assert.ok((report[rpc]?.messages ?? 0) > 0, `${rpc}: ${JSON.stringify(report[rpc])}`);
  });
});

// Streams opened before the change are bound as tightly as new calls: the next push is refused.
describe('an open stream ends once its connector is no longer the process that connected', { skip: NOT_ROOT }, () => {
  const MINUTE = 60_000;
  const DROP_CLIENT = path.join(__dirname, '..', 'support', 'privilege-drop-client-main.js');
  let clock: FakeClock;
  let harness: Harness;
  const children: ChildProcess[] = [];

  before(async () => {
    await assertReadableBy(1000, [DROP_CLIENT]);
    clock = new FakeClock(Date.parse('2026-06-01T00:00:00Z'));
    harness = await startTestAgent({ svid: { ttl: '1h' }, entries: [{ spiffeId: 'spiffe://example.org/root-only', selectors: ['unix:uid:0'] }] }, clock);
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await harness?.agent.stop();
    await removeTempDirs();
  });

  /** Starts the client as root; resolves each stdout JSON line in order. */
  function startClient(mode: 'drop' | 'keep'): { child: ChildProcess; line: () => Promise<Record<string, unknown>> } {
    const child = spawn(process.execPath, [DROP_CLIENT, harness.socketPath, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    return {
      child,
      line: async () => {
        const next = await lines.next();
        if (next.done) throw new Error(`client exited without reporting (exit ${child.exitCode}, signal ${child.signalCode}): ${stderr}`);
        return JSON.parse(next.value) as Record<string, unknown>;
      },
    };
  }

  for (const mode of ['keep', 'drop'] as const) {
    test(mode === 'drop' ? 'root drops to uid 1000 with streams open: the next rotation ends both UNAUTHENTICATED' : 'control: without a change, the same rotation reaches both streams', async () => {
      const client = startClient(mode);
      assert.deepEqual(await client.line(), { ready: { x509: ['spiffe://example.org/root-only'], sds: 1 } });
      client.child.kill('SIGUSR2');
      assert.deepEqual(await client.line(), { dropped: mode === 'drop' });
      await clock.advance(40 * MINUTE); // past half-life (30 min ± 10 %): the SVID is re-minted and pushed
      const outcome = (await client.line()) as { x509: { code?: number; message?: unknown }; sds: { code?: number; message?: unknown } };
      if (mode === 'keep') {
        assert.deepEqual(outcome.x509.message, ['spiffe://example.org/root-only'], JSON.stringify(outcome));
        assert.ok(outcome.sds.message, JSON.stringify(outcome));
      } else {
        assert.equal(outcome.x509.code, status.UNAUTHENTICATED, JSON.stringify(outcome));
        assert.equal(outcome.sds.code, status.UNAUTHENTICATED, JSON.stringify(outcome));
      }
    });
  }
});

async function untilExists(file: string): Promise<void> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    if (await access(file).then(() => true, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${file} never appeared`);
}
