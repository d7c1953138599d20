import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, test } from 'node:test';
import { sdsClient, type DiscoveryResponse, type SdsClient } from '../support/envoy-protos';
import { FakeClock } from '../support/fake-clock';
import { pemBlocks } from '../support/pem';
import { eventually, requestRotation, rotationStatus } from '../support/rotation-traffic';
import { removeTempDirs } from '../support/temp-dir';
import { startLoggedAgent, type LoggedHarness } from '../sds/support/logged-agent';
import { decodeOfficialSecret, SECRET_TYPE_URL } from '../sds/support/official-envoy';
import { assertNothingSentSotw, deltaRequest, deltaSecrets, MODERN_ENVOY, StreamJanitor, type DeltaResponse } from '../sds/support/sds-streams';

const MINUTE = 60_000;
const uid = process.getuid?.() ?? 0;
const ID = 'spiffe://example.org/sidecar';
const clock = new FakeClock(Date.now());
let harness: LoggedHarness;
let client: SdsClient;
let admin: string;
const janitor = new StreamJanitor();

before(async () => {
  harness = await startLoggedAgent({ svid: { ttl: '1h' }, ca: { ttl: '24h', rotationPropagationDelay: '1m' }, entries: [{ spiffeId: ID, selectors: [`unix:uid:${uid}`] }] }, clock);
  client = sdsClient(harness.socketPath);
  admin = harness.agent.adminAddress ?? '';
});
after(async () => {
  janitor.cleanAll();
  client?.close();
  await harness?.agent.stop();
  await removeTempDirs();
});

const sotwRequest = (names: string[], response?: DiscoveryResponse, error?: string): object => ({
  type_url: SECRET_TYPE_URL,
  resource_names: names,
  node: MODERN_ENVOY,
  version_info: response?.version_info ?? '',
  response_nonce: response?.nonce ?? '',
  ...(error ? { error_detail: { code: 3, message: error } } : {}),
});

/** The roots in a SotW ROOTCA response, decoded with Envoy's own Secret type. */
function sotwRoots(response: DiscoveryResponse): string[] {
  const secret = decodeOfficialSecret(response.resources[0] ?? { type_url: '', value: Buffer.alloc(0) });
  assert.equal(secret.name, 'ROOTCA');
  return pemBlocks(secret.validation_context?.trusted_ca?.inline_bytes?.toString() ?? '');
}

function deltaRoots(response: DeltaResponse): string[] {
  return pemBlocks(deltaSecrets(response).get('ROOTCA')?.secret.validation_context?.trusted_ca?.inline_bytes?.toString() ?? '');
}

function leafIssuerRoot(response: DiscoveryResponse, roots: readonly string[]): string | undefined {
  const secret = decodeOfficialSecret(response.resources[0] ?? { type_url: '', value: Buffer.alloc(0) });
  const chain = pemBlocks(secret.tls_certificate?.certificate_chain?.inline_bytes?.toString() ?? '');
  const top = new X509Certificate(chain[chain.length - 1] ?? '');
  return roots.find((root) => top.checkIssued(new X509Certificate(root)) && top.verify(new X509Certificate(root).publicKey));
}

test('the switch waits until every SDS stream serving a validation context has ACKed the new bundle', async () => {
  const sotw = janitor.sotw(client);
  sotw.stream.write(sotwRequest(['ROOTCA']));
  const sotwFirst = await sotw.reader.next();
  sotw.stream.write(sotwRequest(['ROOTCA'], sotwFirst));
  const delta = janitor.delta(client);
  delta.stream.write(deltaRequest({ subscribe: ['ROOTCA'], node: MODERN_ENVOY }));
  const deltaFirst = await delta.reader.next();
  delta.stream.write(deltaRequest({ nonce: deltaFirst.nonce }));
  // A stream for the certificate alone carries no bundle: it never holds the switch.
  const certificate = janitor.sotw(client);
  certificate.stream.write(sotwRequest(['default']));
  const certificateFirst = await certificate.reader.next();
  const [oldRoot] = sotwRoots(sotwFirst);

  assert.equal((await requestRotation(admin)).status, 202);
  const sotwBoth = await sotw.reader.next();
  const deltaBoth = await delta.reader.next();
  assert.equal(sotwRoots(sotwBoth).length, 2, 'SotW ROOTCA carries old + new');
  assert.equal(deltaRoots(deltaBoth).length, 2, 'Delta ROOTCA carries old + new');
  const newRoot = sotwRoots(sotwBoth).find((root) => root !== oldRoot) ?? '';

  await clock.advance(MINUTE); // the propagation delay has passed; neither has ACKed
  let status = await rotationStatus(admin);
  assert.equal(status.phase, 'publishing');
  assert.equal(status.waitingForAcks?.length, 2, JSON.stringify(status.waitingForAcks));
  assert.ok(status.waitingForAcks?.some((label) => label.startsWith('sds_sotw stream of pid ')));
  assert.ok(status.waitingForAcks?.some((label) => label.startsWith('sds_delta stream of pid ')));

  sotw.stream.write(sotwRequest(['ROOTCA'], sotwBoth));
  await eventually(async () => (status = await rotationStatus(admin)).waitingForAcks?.length === 1, 'the SotW ACK to count');
  assert.equal(status.phase, 'publishing', 'still waiting for the Delta stream');
  assert.match(status.waitingForAcks?.[0] ?? '', /^sds_delta /);
  // The marker names the caller's own ID besides default: still no validation context, so this stream still holds nothing up.
  const marked = await assertNothingSentSotw(certificate, ['default', ID], certificateFirst, 'no new certificate before the switch');
  assert.equal(leafIssuerRoot(marked, [oldRoot ?? '', newRoot]), oldRoot, 'still the certificate under the old root');

  delta.stream.write(deltaRequest({ nonce: deltaBoth.nonce }));
  await eventually(async () => (await rotationStatus(admin)).phase === 'switched', 'the switch once every stream ACKed');
  const switchedCertificate = await certificate.reader.next();
  assert.notEqual(switchedCertificate.version_info, certificateFirst.version_info);
  assert.equal(leafIssuerRoot(switchedCertificate, [oldRoot ?? '', newRoot]), newRoot, 'the pushed SVID chains to the new root');

  // Drop: once the old leaves have expired, both streams get the new root alone.
  await clock.advance(Date.parse((await rotationStatus(admin)).dropAt ?? '') - clock.now());
  assert.deepEqual(sotwRoots(await sotw.reader.next()), [newRoot]);
  const deltaDropped = await delta.reader.next();
  assert.deepEqual(deltaRoots(deltaDropped), [newRoot]);
  await eventually(async () => (await rotationStatus(admin)).phase === 'idle', 'the rotation to complete');
  janitor.cleanAll(); // closed streams no longer count for the next rotation
});

test('a NACKing or silent SDS stream holds the switch only until the cap (10 × the delay), then is named in the log', async () => {
  const nacking = janitor.sotw(client);
  nacking.stream.write(sotwRequest(['ROOTCA']));
  const first = await nacking.reader.next();
  nacking.stream.write(sotwRequest(['ROOTCA'], first));
  const silent = janitor.delta(client);
  silent.stream.write(deltaRequest({ subscribe: ['ROOTCA'], node: MODERN_ENVOY }));
  await silent.reader.next(); // never ACKed

  assert.equal((await requestRotation(admin)).status, 202);
  const both = await nacking.reader.next();
  assert.equal(sotwRoots(both).length, 2);
  nacking.stream.write(sotwRequest(['ROOTCA'], first, 'rejected for the test'));

  await clock.advance(9 * MINUTE);
  const waiting = await rotationStatus(admin);
  assert.equal(waiting.phase, 'publishing', 'nine delays in, still waiting');
  assert.equal(waiting.waitingForAcks?.length, 2);
  assert.equal(Date.parse(waiting.switchDeadline ?? ''), clock.now() + MINUTE);

  await clock.advance(MINUTE);
  await eventually(async () => (await rotationStatus(admin)).phase === 'switched', 'the switch at the cap');
  const warning = harness.logs.find((record) => typeof record.msg === 'string' && record.msg.includes('never ACKed'));
  assert.ok(warning, 'the cap is logged');
  const named = warning.streams as string[];
  assert.equal(named.length, 2);
  assert.ok(named.some((label) => label.startsWith('sds_sotw ')) && named.some((label) => label.startsWith('sds_delta ')), JSON.stringify(named));
});
