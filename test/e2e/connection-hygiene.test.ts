import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { FakeClock } from '../support/fake-clock';
import { CLIENT_PREFACE, CONNECTION_ERRORS } from '../support/http2-frames';
import { removeTempDirs } from '../support/temp-dir';
import { until } from '../support/until';
import { assertReadableBy, clientDependencies, fetchAs, NOT_ROOT } from '../support/workload-process';
import { PROBE_INTERVAL_MS, PROBE_TIMEOUT_MS } from '../../src/serving/session-guard';

/** The agent runs in this process, so its fds are this process's fds. */
const openFds = (): number => readdirSync('/proc/self/fd').length;
const PREFACE_TIMEOUT_MS = 10_000;
const IDLE_TIMEOUT_MS = 60_000;

/** A raw client that sends `bytes` and resolves once the server has answered something. */
function rawClient(socketPath: string, bytes: Buffer): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath, () => socket.write(bytes));
    socket.once('data', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Bounded: a connection the agent fails to close fails the test instead of hanging it. */
function closedByServer(socket: net.Socket): Promise<void> {
  socket.on('error', () => undefined);
  return until(() => socket.closed, 'the agent to close the connection');
}

describe('connection hygiene (issue 14, findings 1 and 2)', () => {
  let harness: Harness;
  const clock = new FakeClock(Date.now());
  before(async () => {
    harness = await startTestAgent({ connections: { prefaceTimeout: '10s', idleTimeout: '1m' }, entries: [{ spiffeId: 'spiffe://example.org/me', selectors: [`unix:uid:${process.getuid?.() ?? 0}`] }] }, clock);
  });

  /** Connects and waits until the agent has accepted (and armed the preface timer). */
  async function connectAccepted(write?: Buffer): Promise<net.Socket> {
    const timers = clock.pendingTimers;
    const socket = net.connect(harness.socketPath, () => (write ? socket.write(write) : undefined));
    socket.resume(); // read, so the agent's close is seen
    await until(() => clock.pendingTimers > timers, 'the agent to accept');
    return socket;
  }
  after(async () => {
    await harness?.agent.stop();
    await removeTempDirs();
  });

  test('connections that caused an HTTP/2 connection error are closed: fds return to baseline', async () => {
    const baseline = openFds();
    const clients: net.Socket[] = [];
    for (const bytes of Object.values(CONNECTION_ERRORS)) {
      for (let i = 0; i < 10; i++) clients.push(await rawClient(harness.socketPath, bytes));
    }
    // The clients go away; without the guard the agent kept both its socket and the connector's
    // pidfd for each of them forever (Node's http2 stops reading after its GOAWAY).
    for (const client of clients) client.destroy();
    await clock.advance(PREFACE_TIMEOUT_MS + PROBE_INTERVAL_MS + PROBE_TIMEOUT_MS);
    await until(() => openFds() <= baseline, `fds back to ${baseline} (now ${openFds()})`);
    const closed = await harness.agent.metrics.registry.getSingleMetricAsString('meshid_connections_closed_total');
    assert.match(closed, /reason="unresponsive"\} 30/, closed);
    assert.match(closed, /reason="preface_timeout"\} 10/, 'a bad SETTINGS frame never completes the preface');
  });

  test('a connection that never sends the preface is closed after prefaceTimeout, not before', async () => {
    const silent = await connectAccepted();
    await clock.advance(PREFACE_TIMEOUT_MS - 1);
    assert.equal(silent.destroyed, false);
    const closing = closedByServer(silent);
    await clock.advance(1);
    await closing;
  });

  test('a live HTTP/2 client answers the probes and stays until idleTimeout; a stream keeps it open', async () => {
    const session = http2.connect('http://localhost', { createConnection: () => net.connect(harness.socketPath) });
    session.on('error', () => undefined);
    // The PING ACKs are real I/O: after each step the client's ACK of the agent's probe must have
    // reached the agent before the clock moves on. Two client PINGs are the marker: the probe,
    // queued before the agent answered the first, was ACKed before the second was sent, and the
    // agent reads frames in order, so it has the probe's ACK once it answered the second.
    // Once the agent closed the session (idleTimeout, below) there is nothing left to answer.
    const gone = (): boolean => session.closed || session.destroyed;
    const clientPing = (): Promise<void> =>
      gone() ? Promise.resolve() : new Promise((resolve, reject) => session.ping((error) => (error && !gone() ? reject(error) : resolve())));
    const step = async (ms: number): Promise<void> => {
      await clock.advance(ms);
      await clientPing();
      await clientPing();
    };
    for (let elapsed = 0; elapsed < IDLE_TIMEOUT_MS - 2 * PROBE_INTERVAL_MS; elapsed += PROBE_INTERVAL_MS) await step(PROBE_INTERVAL_MS);
    assert.equal(session.closed, false, 'a client that ACKs PINGs is not closed before idleTimeout');
    // A FetchX509SVID stream (server streaming) stays open after its first message.
    const stream = session.request({ ':path': '/SpiffeWorkloadAPI/FetchX509SVID', ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers', 'workload.spiffe.io': 'true' });
    stream.on('error', () => undefined);
    const firstMessage = new Promise((resolve) => stream.once('data', resolve));
    stream.end(Buffer.alloc(5));
    await firstMessage;
    for (let elapsed = 0; elapsed < IDLE_TIMEOUT_MS * 2; elapsed += PROBE_INTERVAL_MS) await step(PROBE_INTERVAL_MS);
    assert.equal(session.closed, false, 'an open stream is not idle');
    stream.close();
    await until(() => stream.closed, 'the stream to close');
    for (let elapsed = 0; elapsed <= IDLE_TIMEOUT_MS + PROBE_INTERVAL_MS && !session.closed; elapsed += PROBE_INTERVAL_MS) await step(PROBE_INTERVAL_MS);
    await until(() => session.closed || session.destroyed, 'the idle session to be closed');
  });

  test('a half-sent preface counts as no preface', async () => {
    const partial = await connectAccepted(CLIENT_PREFACE.subarray(0, 10));
    const closing = closedByServer(partial);
    await clock.advance(PREFACE_TIMEOUT_MS);
    await closing;
  });
});

const HOLD_CONNECTIONS = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'floods', 'hold-connections.py');

describe('connection caps, with processes under other uids', { skip: NOT_ROOT }, () => {
  let harness: Harness;
  before(async () => {
    await assertReadableBy(1301, [HOLD_CONNECTIONS]);
    await assertReadableBy(1300, clientDependencies());
    harness = await startTestAgent({ connections: { maxPerUid: 8 }, entries: [{ spiffeId: 'spiffe://example.org/bystander', selectors: ['unix:uid:1300'] }] });
  });
  after(async () => {
    await harness?.agent.stop();
    await removeTempDirs();
  });

  test('a uid with no entry is refused beyond its cap while another uid still fetches', async () => {
    const attacker = spawn('/usr/bin/python3', [HOLD_CONNECTIONS, harness.socketPath, '40'], { uid: 1301, gid: 1301, stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        attacker.stdout.once('data', (data: Buffer) => resolve(data.toString()));
        attacker.once('exit', (code) => reject(new Error(`attacker exited ${String(code)}`)));
      });
      assert.deepEqual(JSON.parse(line), { answered: 8, refused: 32 });
      const fetched = await fetchAs(1300, harness.socketPath);
      assert.deepEqual(fetched.svids?.map((svid) => svid.spiffeId), ['spiffe://example.org/bystander'], JSON.stringify(fetched).slice(0, 300));
      const refused = await harness.agent.metrics.registry.getSingleMetricAsString('meshid_connections_refused_total');
      assert.match(refused, /reason="uid_cap"\} 32/, refused);
    } finally {
      attacker.stdin.end();
      await new Promise((resolve) => (attacker.exitCode !== null ? resolve(undefined) : attacker.once('exit', resolve)));
    }
  });
});
