import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { meshid } from '../support/meshid-cli';
import { eventually } from '../support/rotation-traffic';
import { removeTempDirs } from '../support/temp-dir';
import { needs } from '../support/tools';
import { CLIENT_ID, EnvoyMesh, INTRUDER_ID, SERVER_ID } from './support/envoy-mesh';
import type { EnvoyProcess } from './support/envoy-process';
import { get, RequestLoop } from './support/request-loop';
import { SerialWatch } from './support/serial-watch';

/**
 * Real Envoy 1.40 sidecars on meshid's SDS (issue 10). One meshid and one set of Envoys serve
 * every scenario in turn under one request loop, to keep the wall time to about a minute:
 * leaf rotations (svid.ttl 20s: a rotation every ~10 s), a root rotation, an agent restart.
 * Bounds on waits only keep a broken step from hanging the run; no timing is asserted.
 */
describe('real Envoy sidecars on meshid identities (SDS over the agent socket)', { skip: needs('envoy') }, () => {
  let mesh: EnvoyMesh;
  const idOf = (envoy: EnvoyProcess): string => (envoy.name.startsWith('client') ? CLIENT_ID : SERVER_ID);

  before(async () => {
    mesh = await EnvoyMesh.start({ svidTtl: '20s', rotationPropagationDelay: '2s' });
  });
  after(async () => {
    await mesh?.stop();
    await removeTempDirs();
  });

  it('carries a request client Envoy → mTLS → server Envoy → backend, which sees the client SPIFFE ID in XFCC (GRPC/DELTA_GRPC both ways)', async () => {
    for (const pair of mesh.pairs) {
      const outcome = await get(pair.clientPort, `/${pair.label}/first`);
      assert.equal(outcome.status, 200, `${pair.label}: ${JSON.stringify(outcome)}\n${mesh.logs()}`);
      assert.equal(outcome.body, `hello ${CLIENT_ID}`);
      assert.ok(mesh.backend?.seen.some((seen) => seen.path === `/${pair.label}/first` && seen.clientId === CLIENT_ID));
      assert.ok((await pair.client.leafSerials(CLIENT_ID)).size > 0);
      assert.ok((await pair.server.leafSerials(SERVER_ID)).size > 0);
      // Both validation forms really reached Envoy: ROOTCA as trusted_ca, the trust-domain
      // name as the SPIFFE certificate validator (Envoy reports 1.40 in user_agent_build_version).
      const clientSecrets = await pair.client.admin('/config_dump?resource=dynamic_active_secrets');
      const serverSecrets = await pair.server.admin('/config_dump?resource=dynamic_active_secrets');
      assert.match(clientSecrets, /"trusted_ca"/);
      assert.doesNotMatch(clientSecrets, /envoy\.tls\.cert_validator\.spiffe/);
      assert.match(serverSecrets, /envoy\.tls\.cert_validator\.spiffe/);
      assert.match(serverSecrets, /SPIFFECertValidatorConfig/);
    }
  });

  it('refuses an Envoy whose uid holds another SPIFFE ID: its requests fail and none reaches the backend', async () => {
    const intruder = mesh.intruder;
    assert.ok(intruder);
    assert.ok((await intruder.envoy.leafSerials(INTRUDER_ID)).size > 0, 'the intruder holds its own SVID');
    for (let i = 0; i < 5; i++) {
      const outcome = await get(intruder.port, `/intruder/${i}`);
      assert.notEqual(outcome.status, 200, JSON.stringify(outcome));
    }
    assert.deepEqual(
      mesh.backend?.seen.filter((seen) => seen.path.startsWith('/intruder/')),
      [],
    );
    // The server Envoy refused it for its SAN (match_typed_subject_alt_names), not for anything else.
    const server = mesh.pairs[0]?.server;
    assert.ok(server);
    assert.ok((await server.statSum(/ssl\.fail_verify_san$/)) > 0, await server.admin('/stats?filter=ssl'));
  });

  it('answers a DeltaSecrets name the Envoy may not hold in removed_resources: Envoy accepts it (no NACK) and its other secrets keep coming', async () => {
    const intruder = mesh.intruder?.envoy;
    assert.ok(intruder);
    const prefix = `sds.${SERVER_ID.replace('spiffe://', 'spiffe_')}`;
    await eventually(async () => ((await intruder.stats()).get(`${prefix}.update_success`) ?? 0) > 0, `${prefix}.update_success`, 15_000);
    const stats = await intruder.stats();
    assert.equal(stats.get(`${prefix}.update_rejected`), 0, 'no NACK');
    assert.equal(stats.get(`${prefix}.init_fetch_timeout`), 0, 'answered at once, not waited out');
    assert.equal(stats.get(`${prefix}.control_plane.connected_state`), 1, 'the stream stays open');
    assert.equal(stats.get('sds.default.update_rejected'), 0);
  });

  it('keeps 0 failed requests through leaf rotations, a root rotation and an agent restart; Envoy applies every change', async (t) => {
    const envoys = mesh.pairs.flatMap((pair) => [pair.client, pair.server]);
    const watch = new SerialWatch(mesh, envoys.map((envoy) => ({ envoy, spiffeId: idOf(envoy) })));
    const loop = new RequestLoop(
      mesh.pairs.map((pair) => ({ label: pair.label, port: pair.clientPort })),
      'leaf rotations',
    );
    try {
      // Leaf rotations: every Envoy goes through at least two new serials (each a rotation
      // meshid pushed and Envoy applied), and ends on the serial meshid serves.
      const serialsBefore = new Map(envoys.map((envoy) => [envoy.name, watch.serialsOf(envoy).length]));
      for (const envoy of envoys) {
        await eventually(() => watch.serialsOf(envoy).length >= Math.max(1, serialsBefore.get(envoy.name) ?? 0) + 2, `${envoy.name}: two rotations applied`, 60_000);
      }
      await eventually(async () => {
        const issued = await mesh.meshidSerials();
        const held = await Promise.all(envoys.map(async (envoy) => [...(await envoy.leafSerials(idOf(envoy)))]));
        return envoys.every((envoy, index) => held[index]?.length === 1 && held[index]?.[0] === issued.get(idOf(envoy))?.toLowerCase().replace(/^0+/, ''));
      }, 'every Envoy on the serial meshid serves');

      // Root rotation (meshid ca rotate): Envoy holds old + new roots, then the old one goes.
      loop.enter('root rotation');
      const client = mesh.pairs[0]?.client;
      assert.ok(client);
      const oldRoots = new Set((await client.certs()).cas.map((ca) => ca.serial_number));
      assert.equal(oldRoots.size, 1);
      const rotate = await meshid(['ca', 'rotate', '--admin', mesh.adminAddress], { cwd: mesh.dir });
      assert.equal(rotate.code, 0, rotate.stderr);
      await eventually(async () => (await client.certs()).cas.length === 2, 'Envoy holding the old and the new root', 30_000);
      await eventually(async () => (await mesh.adminJson<{ phase: string }>('/ca/rotation')).phase === 'idle', 'the rotation to finish (old root dropped)', 90_000);
      await eventually(async () => {
        const cas = (await client.certs()).cas.map((ca) => ca.serial_number);
        return cas.length === 1 && !oldRoots.has(cas[0] ?? '');
      }, 'the old root gone from Envoy', 30_000);

      // Agent restart: SIGTERM, start again; Envoy keeps its secrets, reconnects, gets rotations.
      loop.enter('agent restart');
      const connectionsBefore = await Promise.all(envoys.map((envoy) => envoy.statSum(/^cluster\.sds-grpc\.upstream_cx_total$/)));
      const seenBeforeRestart = new Map(envoys.map((envoy) => [envoy.name, new Set(watch.serialsOf(envoy))]));
      assert.equal(await mesh.terminateAgent(), 0, 'meshid exits 0 on SIGTERM');
      await mesh.startAgent();
      for (const [index, envoy] of envoys.entries()) {
        await eventually(async () => (await envoy.statSum(/^cluster\.sds-grpc\.upstream_cx_total$/)) > (connectionsBefore[index] ?? 0), `${envoy.name} reconnecting to meshid`, 60_000);
        await eventually(async () => ((await envoy.stats()).get('sds.default.control_plane.connected_state') ?? 0) === 1, `${envoy.name}: SDS stream for default back`, 60_000);
      }
      for (const envoy of envoys) {
        // The SVID minted after the restart, then at least one rotation of it.
        const fresh = (): number => watch.serialsOf(envoy).filter((serial) => !seenBeforeRestart.get(envoy.name)?.has(serial)).length;
        await eventually(() => fresh() >= 2, `${envoy.name}: a rotation after the restart`, 60_000);
      }
    } finally {
      await loop.stop();
      await watch.stop();
    }
    t.diagnostic(`requests per phase (sent/failed): ${[...loop.phases].map(([phase, count]) => `${phase} ${count.sent}/${count.failed}`).join(', ')}`);
    t.diagnostic(`serials applied per Envoy: ${envoys.map((envoy) => `${envoy.name} ${watch.serialsOf(envoy).length}`).join(', ')}`);
    for (const [phase, count] of loop.phases) assert.ok(count.sent > 0, `requests were sent during ${phase}`);
    assert.equal(loop.failed, 0, `${loop.failed} of ${loop.sent} requests failed:\n${loop.failures.slice(0, 10).join('\n')}\n${mesh.logs()}`);
    // Envoy accepted everything meshid sent through all of it: not one NACK on any secret.
    for (const envoy of mesh.envoys) assert.equal(await envoy.statSum(/^sds\..*\.update_rejected$/), 0, `${envoy.name} rejected an update\n${envoy.logTail()}`);
  });
});
