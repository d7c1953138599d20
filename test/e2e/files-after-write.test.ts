import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import pino from 'pino';
import { parseConfig } from '../../src/agent/config/load';
import { loadConfiguredUpstream } from '../../src/agent/configured-upstream';
import { FileTarget } from '../../src/files/file-target';
import { NodeCa } from '../../src/rotation/node-ca';
import { SvidStore } from '../../src/rotation/svid-store';
import { startTestAgent } from '../support/agent-harness';
import { capturedLogger } from '../support/captured-logger';
import { FakeClock } from '../support/fake-clock';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { until } from '../support/until';
import { securityHeader, StreamReader, workloadClient, type X509SvidResponse } from '../support/workload-client';

after(removeTempDirs);

const run = promisify(execFile);
const ROOT_ENTRY = { spiffeId: 'spiffe://example.org/root-process', selectors: ['unix:uid:0'] };
const MINUTE = 60_000;

/** A fifo: `cat` on it blocks until the test writes to it; nothing here waits on time. */
async function makeFifo(dir: string): Promise<string> {
  const fifo = path.join(dir, 'gate');
  await run('mkfifo', [fifo]);
  return fifo;
}

test('an afterWrite hook that blocks does not delay the Workload API (finding 9)', async () => {
  const dir = await makeTempDir('meshid-hook-');
  const fifo = await makeFifo(dir);
  const started = path.join(dir, 'hook-started');
  const finished = path.join(dir, 'hook-finished');
  const harness = await startTestAgent({
    entries: [ROOT_ENTRY],
    files: [{ spiffeId: 'spiffe://example.org/nginx', certFile: path.join(dir, 'out', 'chain.pem'), keyFile: path.join(dir, 'out', 'key.pem'), afterWrite: `touch ${started}; cat ${fifo} >/dev/null; touch ${finished}` }],
  });
  const stream = new StreamReader<X509SvidResponse>(workloadClient(harness.socketPath).FetchX509SVID({}, securityHeader()));
  try {
    // start() returned already; now make sure the hook really is blocked before asking for an SVID.
    await until(() => existsSync(started), 'the afterWrite hook to start');
    const response = await stream.next();
    assert.equal(response.svids[0]?.spiffe_id, ROOT_ENTRY.spiffeId, 'served while the hook is blocked');
    assert.equal(existsSync(finished), false, 'the hook was still blocked when the SVID was served');
    await writeFile(fifo, 'go\n');
    await harness.agent.settled();
    assert.equal(existsSync(finished), true);
  } finally {
    stream.call.cancel();
    await harness.agent.stop();
  }
});

test('afterWrite runs one at a time per target; writes that land meanwhile share one more run', async () => {
  const clock = new FakeClock(Date.now());
  const dir = await makeTempDir('meshid-hook-');
  const fifo = await makeFifo(dir);
  const log = path.join(dir, 'runs.log');
  const logger = pino({ level: 'silent' });
  const config = parseConfig(
    {
      trustDomain: 'example.org',
      dataDir: path.join(dir, 'data'),
      socketPath: path.join(dir, 'a.sock'),
      svid: { ttl: '1h' },
      files: [{ spiffeId: 'spiffe://example.org/app', certFile: 'out/chain.pem', keyFile: 'out/key.pem', afterWrite: `echo run >> ${log}; cat ${fifo} >/dev/null` }],
    },
    { baseDir: dir },
  );
  const ca = new NodeCa({ upstream: await loadConfiguredUpstream(config, new Date(clock.now())), trustDomain: 'example.org', caTtlMs: config.ca.ttlMs, leafKeyType: 'ec-p256', clock, logger, random: () => 0.5 });
  await ca.start();
  const store = new SvidStore({ ca, svidTtlMs: config.svid.ttlMs, clock, logger, random: () => 0.5 });
  const target = config.files[0];
  assert.ok(target);
  let written = 0;
  let nextWrite: () => void = () => undefined;
  const fileTarget = new FileTarget({ target, store, clock, logger, onWrite: () => (written++, nextWrite()) });
  const runs = (): number => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((line) => line === 'run').length : 0);
  try {
    await fileTarget.start();
    await until(() => existsSync(log), 'the first afterWrite run');
    for (let rotation = 0; rotation < 3; rotation++) {
      const landed = new Promise<void>((resolve) => (nextWrite = resolve));
      await clock.advance(31 * MINUTE);
      await landed;
    }
    assert.equal(written, 4, 'three rotations written while the first run is blocked');
    assert.equal(runs(), 1, 'no second run while the first is going');
    await writeFile(fifo, 'go\n'); // ends the first run; the one queued run starts
    await until(() => runs() === 2, 'the queued afterWrite run');
    await writeFile(fifo, 'go\n');
    await fileTarget.settled();
    assert.equal(runs(), 2, 'the three writes during the first run shared one more run');
  } finally {
    fileTarget.stop();
    store.stop();
    ca.stop();
  }
});

test('a hook over its timeout is killed with its whole process group and logged as failed; the files stay', async () => {
  const clock = new FakeClock(Date.now());
  const dir = await makeTempDir('meshid-hook-');
  const fifo = await makeFifo(dir);
  const { logger, records } = capturedLogger();
  const config = parseConfig(
    {
      trustDomain: 'example.org',
      dataDir: path.join(dir, 'data'),
      socketPath: path.join(dir, 'a.sock'),
      files: [{ spiffeId: 'spiffe://example.org/app', certFile: 'out/chain.pem', keyFile: 'out/key.pem', afterWrite: `cat ${fifo} >/dev/null; echo never` }],
    },
    { baseDir: dir },
  );
  const ca = new NodeCa({ upstream: await loadConfiguredUpstream(config, new Date(clock.now())), trustDomain: 'example.org', caTtlMs: config.ca.ttlMs, leafKeyType: 'ec-p256', clock, logger, random: () => 0.5 });
  await ca.start();
  const store = new SvidStore({ ca, svidTtlMs: config.svid.ttlMs, clock, logger, random: () => 0.5 });
  const target = config.files[0];
  assert.ok(target);
  // The fifo is never written: only the timeout (kept short here) ends the hook.
  const fileTarget = new FileTarget({ target, store, clock, logger, afterWriteTimeoutMs: 200 });
  try {
    await fileTarget.start();
    await fileTarget.settled();
    const failed = records.find((record) => record.msg === 'afterWrite command failed');
    assert.ok(failed, 'the timeout is logged');
    assert.equal(failed.timedOutAfterMs, 200);
    assert.equal(failed.signal, 'SIGKILL');
    assert.equal(failed.spiffeId, 'spiffe://example.org/app');
    assert.equal(existsSync(target.keyFile), true, 'the files are in place regardless');
    const { stdout } = await run('sh', ['-c', `pgrep -f '[c]at ${fifo}' || true`]);
    assert.equal(stdout.trim(), '', 'no cat left behind: the process group was killed, not only sh');
  } finally {
    fileTarget.stop();
    store.stop();
    ca.stop();
  }
});
