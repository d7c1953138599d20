import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFile, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { capturedLogger, type CapturedLog } from '../support/captured-logger';
import { FakeClock } from '../support/fake-clock';
import { openssl } from '../support/openssl';
import { chainsTo, eventually, requestRotation, rotationStatus, StreamedWorkload } from '../support/rotation-traffic';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { securityHeader, StreamReader, workloadClient, type X509SvidResponse } from '../support/workload-client';
import { derCertificatesToPem, pemBlocks } from '../support/pem';
import { needs } from '../support/tools';

/** The fixtures here are made with the openssl CLI. */
const OPENSSL = needs('openssl');

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ID = 'spiffe://example.org/workload';
const ENTRIES = [{ spiffeId: ID, selectors: [`unix:uid:${process.getuid?.() ?? 0}`] }];
let dir: string;

/** An EC P-256 root CA made the way operators make one with openssl. */
async function makeRoot(name: string, days = 30): Promise<void> {
  const made = await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', String(days), '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  assert.ok(made.ok, made.output);
}

/** Replaces a file the way deployment tools do: a new file renamed over the old one. */
async function replace(target: string, source: string): Promise<void> {
  await copyFile(path.join(dir, source), `${target}.tmp`);
  await rename(`${target}.tmp`, target);
}

before(async () => {
  if (OPENSSL) return; // every test here is skipped: no fixtures to make
  dir = await makeTempDir('meshid-rotation-disk-');
  await makeRoot('root1');
  await makeRoot('root2');
  await makeRoot('short', 1);
  const notCa = await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.pem', '-days', '30', '-subj', '/CN=not a ca', '-addext', 'basicConstraints=critical,CA:FALSE'], dir);
  assert.ok(notCa.ok, notCa.output);
});
after(removeTempDirs);

const refusals = (records: CapturedLog[]): string[] => records.filter((record) => record.msg.startsWith('root rotation refused')).map((record) => record.msg);

describe('disk upstream: replacing the files on disk rotates the root', { skip: OPENSSL }, () => {
  let harness: Harness;
  let workload: StreamedWorkload;
  const { logger, records } = capturedLogger();
  const certFile = (): string => path.join(dir, 'active.pem');
  const keyFile = (): string => path.join(dir, 'active.key');

  before(async () => {
    await copyFile(path.join(dir, 'root1.pem'), certFile());
    await copyFile(path.join(dir, 'root1.key'), keyFile());
    // The openssl roots are valid from the real now; the fake clock starts just after.
    const clock = new FakeClock(Date.now() + 5_000);
    harness = await startTestAgent({ upstream: { type: 'disk', certFile: certFile(), keyFile: keyFile() }, svid: { ttl: '1h' }, ca: { ttl: '24h', rotationPropagationDelay: '1m' }, entries: ENTRIES }, clock, { logger });
    workload = new StreamedWorkload(harness.socketPath, ID);
    await eventually(() => workload.ready, 'the first SVID');
    (harness as Harness & { clock: FakeClock }).clock = clock;
  });
  after(async () => {
    workload?.close();
    await harness?.agent.stop();
  });

  it('invalid new files are rejected with the problem logged, and the old upstream stays', async () => {
    const root1 = await readFile(path.join(dir, 'root1.pem'), 'utf8');
    await replace(certFile(), 'root2.pem'); // root2's certificate with root1's key
    await eventually(() => refusals(records).length === 1, 'the mismatched pair to be refused');
    assert.match(refusals(records)[0] ?? '', /keyFile .*active\.key does not match the certificate in certFile .*active\.pem/);

    await replace(keyFile(), 'leaf.key');
    await replace(certFile(), 'leaf.pem'); // a matching pair, but not a CA
    await eventually(() => refusals(records).some((message) => /is not a CA certificate/.test(message)), 'the non-CA pair to be refused');
    for (const message of refusals(records)) assert.doesNotMatch(message, /PRIVATE KEY/, 'no key material in the log');

    const status = await rotationStatus(harness.agent.adminAddress ?? '');
    assert.equal(status.phase, 'idle');
    assert.match(status.lastError ?? '', /is not a CA certificate/);
    assert.deepEqual(workload.roots, pemBlocks(root1), 'bundles still carry the old root alone');
    assert.ok(chainsTo(workload.chain, root1));
  });

  it('a new valid root on disk runs the whole rotation: publish, switch, drop', async () => {
    const clock = (harness as Harness & { clock: FakeClock }).clock;
    const admin = harness.agent.adminAddress ?? '';
    const root2 = (await readFile(path.join(dir, 'root2.pem'), 'utf8')).trim();
    await replace(keyFile(), 'root2.key');
    await replace(certFile(), 'root2.pem');
    await eventually(async () => (await rotationStatus(admin)).phase === 'publishing', 'the file change to start a rotation');
    await eventually(() => workload.roots.length === 2, 'old + new roots in the bundle');

    await clock.advance(MINUTE);
    await eventually(() => chainsTo(workload.chain, root2), 'the SVID re-minted under the new root');
    const dropAt = Date.parse((await rotationStatus(admin)).dropAt ?? '');
    await clock.advance(dropAt - clock.now());
    await eventually(() => workload.roots.length === 1, 'the old root dropped');
    assert.equal(workload.roots[0]?.trim(), root2);
    let done = await rotationStatus(admin);
    await eventually(async () => (done = await rotationStatus(admin)).phase === 'idle', 'the rotation to complete');
    assert.equal(done.completedRotations, 1);
  });
});

describe('disk upstream: files removed', { skip: OPENSSL }, () => {
  let harness: Harness;
  const clock = new FakeClock(Date.now() + 5_000);

  after(async () => {
    await harness?.agent.stop();
  });

  it('valid SVIDs are still served and rotated; never an expired one; a rotate request is refused', async () => {
    const certFile = path.join(dir, 'short-active.pem');
    const keyFile = path.join(dir, 'short-active.key');
    await copyFile(path.join(dir, 'short.pem'), certFile);
    await copyFile(path.join(dir, 'short.key'), keyFile);
    const rootNotAfter = Date.parse(new X509Certificate(await readFile(certFile)).validTo);
    harness = await startTestAgent({ upstream: { type: 'disk', certFile, keyFile }, svid: { ttl: '1h' }, ca: { ttl: '6h' }, entries: ENTRIES }, clock);
    const client = workloadClient(harness.socketPath);
    const call = client.FetchX509SVID({}, securityHeader());
    const leafOf = (response: X509SvidResponse): X509Certificate => new X509Certificate(pemBlocks(derCertificatesToPem(response.svids[0]?.x509_svid ?? Buffer.alloc(0)))[0] ?? '');
    // Each push with the fake time it arrived at (the clock settles the event loop between timers).
    const pushes: { at: number; notAfter: number; serial: string }[] = [];
    const outcome: { ended?: ServiceError } = {};
    call.on('data', (response: X509SvidResponse) => pushes.push({ at: clock.now(), notAfter: Date.parse(leafOf(response).validTo), serial: leafOf(response).serialNumber }));
    call.on('error', (error: ServiceError) => (outcome.ended = error));
    await eventually(() => pushes.length === 1, 'the first SVID');

    await unlink(certFile);
    await unlink(keyFile);
    const refused = await requestRotation(harness.agent.adminAddress ?? '');
    assert.equal(refused.status, 422);
    assert.match(refused.body.error ?? '', /cannot read certFile .*short-active\.pem/);

    // Hours later (node CA rotated with the key held in memory), SVIDs still come. Each advance
    // waits for the re-mints its timers start (the agent's settled(), see agent-harness.ts).
    for (let step = 0; step < 42; step++) await clock.advance(10 * MINUTE);
    await eventually(() => pushes.length > 1, 'a rotated SVID');
    assert.notEqual(pushes[pushes.length - 1]?.serial, pushes[0]?.serial, 'rotated meanwhile');
    assert.equal(outcome.ended, undefined);

    // Past the upstream's own expiry nothing can be renewed: once the last SVID expires the
    // stream ends UNAVAILABLE instead of serving it.
    while (!outcome.ended && clock.now() < rootNotAfter + 2 * HOUR) {
      await clock.advance(10 * MINUTE);
      await new Promise((resolve) => setTimeout(resolve, 20)); // the stream's end travels over the socket
    }
    const ended = outcome.ended as ServiceError | undefined; // set by the stream's error event
    assert.equal(ended?.code, status.UNAVAILABLE, 'the stream ends UNAVAILABLE once no valid SVID can be had');
    assert.ok(clock.now() > rootNotAfter - 10_000, 'not before the upstream itself expired');
    for (const push of pushes) assert.ok(push.notAfter > push.at, `an SVID pushed at ${new Date(push.at).toISOString()} expired at ${new Date(push.notAfter).toISOString()}`);
    const again = new StreamReader<X509SvidResponse>(client.FetchX509SVID({}, securityHeader()));
    assert.equal((await again.failure()).code, status.UNAVAILABLE, 'a new call is refused, not served an expired SVID');
    client.close();
  });
});
