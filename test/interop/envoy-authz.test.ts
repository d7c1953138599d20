import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AgentProcesses } from '../support/meshid-cli';
import { freePort } from '../support/nginx';
import { eventually } from '../support/rotation-traffic';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { needs } from '../support/tools';
import { clientSidecar, serverSidecar, type SdsApiType, type ValidationSecret } from './support/envoy-bootstrap';
import { EnvoyProcess } from './support/envoy-process';
import { get } from './support/request-loop';
import { XfccBackend } from './support/xfcc-backend';

/**
 * Authorization in SDS (issue 16 item 1) with real Envoy 1.40: the server Envoy's entry carries
 * `allowedPeers`, and meshid puts them into every validation context it serves that Envoy as
 * match_typed_subject_alt_names. The server Envoys have no SAN matcher of their own (a static one
 * would be merged with meshid's and widen it, see envoy-bootstrap.ts), so what they admit is
 * exactly what meshid pushed. Two server Envoys, one per validator form: the SPIFFE validator
 * (`spiffe://example.org`, DeltaSecrets) and trusted_ca (`ROOTCA`, StreamSecrets). Every change is
 * an edit of the watched entries file; Envoys are never restarted, and every negative is asserted
 * only after the Envoy shows the new secret in /config_dump (no sleeps).
 */
const SERVER_ID = 'spiffe://example.org/server';
const CLIENT_A = 'spiffe://example.org/clients/a';
const CLIENT_B = 'spiffe://example.org/clients/b';
const UIDS = { a: 1101, server: 1102, b: 1103 } as const;

interface Server {
  readonly label: string;
  readonly envoy: EnvoyProcess;
  readonly validation: ValidationSecret;
  readonly port: number;
}
interface Client {
  readonly id: string;
  readonly server: Server;
  readonly envoy: EnvoyProcess;
  readonly port: number;
}

/** The URI SAN matchers of validation secret `name` as Envoy holds it now, and its version. */
async function heldMatchers(envoy: EnvoyProcess, name: string): Promise<{ version: string; matchers: string[] } | undefined> {
  interface Dumped {
    readonly name?: string;
    readonly version_info?: string;
    readonly secret?: { readonly validation_context?: { readonly match_typed_subject_alt_names?: readonly { san_type?: string; matcher?: { exact?: string; prefix?: string } }[] } };
  }
  const dump = JSON.parse(await envoy.admin('/config_dump?resource=dynamic_active_secrets')) as { configs?: Dumped[] };
  const secret = dump.configs?.find((config) => config.name === name);
  if (!secret?.secret) return undefined;
  const matchers = (secret.secret.validation_context?.match_typed_subject_alt_names ?? []).map((m) => `${m.san_type ?? ''} ${m.matcher?.exact !== undefined ? `exact ${m.matcher.exact}` : `prefix ${m.matcher?.prefix ?? ''}`}`);
  return { version: secret.version_info ?? '', matchers };
}

describe('allowedPeers enforced by real Envoys through SDS (match_typed_subject_alt_names)', { skip: needs('envoy') }, () => {
  const agents = new AgentProcesses();
  const envoys: EnvoyProcess[] = [];
  let dir: string;
  let entriesFile: string;
  let adminAddress: string;
  let backend: XfccBackend;
  let servers: Server[] = [];
  let clients: Client[] = [];
  let requestCounter = 0;

  /** Replaces the entries file in one rename, as an editor or a ConfigMap swap does. */
  async function writeEntries(serverEntryExtra: string): Promise<void> {
    const staged = `${entriesFile}.next`;
    await writeFile(
      staged,
      `- spiffeId: ${SERVER_ID}\n  selectors: ['unix:uid:${UIDS.server}']\n${serverEntryExtra}` +
        `- spiffeId: ${CLIENT_A}\n  selectors: ['unix:uid:${UIDS.a}']\n` +
        `- spiffeId: ${CLIENT_B}\n  selectors: ['unix:uid:${UIDS.b}']\n`,
    );
    await rename(staged, entriesFile);
  }

  async function metric(name: string): Promise<number> {
    const text = await (await fetch(`http://${adminAddress}/metrics`)).text();
    const line = text.split('\n').find((candidate) => candidate.startsWith(name));
    return Number(line?.split(' ').pop() ?? 0);
  }

  async function startEnvoy(name: string, uid: number, config: (adminPort: number) => object): Promise<EnvoyProcess> {
    const adminPort = await freePort();
    const envoy = await EnvoyProcess.start(name, uid, adminPort, dir, config(adminPort));
    envoys.push(envoy);
    return envoy;
  }

  /** Waits until every server Envoy holds the validation context with exactly `matchers`, then returns. */
  async function serversHold(matchers: string[], what: string): Promise<void> {
    for (const server of servers) {
      await eventually(async () => JSON.stringify((await heldMatchers(server.envoy, server.validation))?.matchers) === JSON.stringify(matchers), `${server.label}: ${what}`, 30_000);
    }
  }

  /** One request per client Envoy; the status each got, keyed `<client id> → <server>`. */
  async function requestAll(): Promise<Map<string, number | string>> {
    const outcomes = new Map<string, number | string>();
    for (const client of clients) {
      const outcome = await get(client.port, `/authz/${++requestCounter}`);
      outcomes.set(`${client.id} → ${client.server.label}`, outcome.status ?? JSON.stringify(outcome));
    }
    return outcomes;
  }

  async function sanFailures(): Promise<number[]> {
    return Promise.all(servers.map((server) => server.envoy.statSum(/ssl\.fail_verify_san$/)));
  }

  function expectOutcomes(outcomes: Map<string, number | string>, allowed: string): void {
    for (const [key, status] of outcomes) {
      if (key.startsWith(`${allowed} `)) assert.equal(status, 200, `${key}: ${String(status)}\n${envoys.map((envoy) => envoy.logTail(10)).join('\n')}`);
      else assert.notEqual(status, 200, `${key} must be refused`);
    }
  }

  before(async () => {
    dir = await makeTempDir('meshid-authz-');
    const socketPath = path.join(dir, 'agent.sock');
    adminAddress = `127.0.0.1:${await freePort()}`;
    entriesFile = path.join(dir, 'entries.yaml');
    await writeEntries(`  allowedPeers: ['${CLIENT_A}']\n`);
    const configFile = path.join(dir, 'meshid.yaml');
    await writeFile(configFile, `trustDomain: example.org\ndataDir: ${path.join(dir, 'data')}\nsocketPath: ${socketPath}\nadmin:\n  listen: ${adminAddress}\nentriesFile: ${entriesFile}\n`);
    await agents.start(configFile, socketPath, dir);
    backend = await XfccBackend.start(CLIENT_A, CLIENT_B);

    const forms: [string, ValidationSecret, SdsApiType][] = [
      ['spiffe-validator', 'spiffe://example.org', 'DELTA_GRPC'],
      ['trusted-ca', 'ROOTCA', 'GRPC'],
    ];
    for (const [label, validation, apiType] of forms) {
      const port = await freePort();
      // No peerId: the server Envoy's validation context is meshid's alone.
      const envoy = await startEnvoy(`server-${label}`, UIDS.server, (adminPort) => serverSidecar({ nodeId: `server-${label}`, adminPort, socketPath, apiType, validation, listenPort: port, backendPort: backend.port }));
      servers.push({ label, envoy, validation, port });
    }
    for (const [id, uid] of [[CLIENT_A, UIDS.a], [CLIENT_B, UIDS.b]] as const) {
      for (const server of servers) {
        const port = await freePort();
        const name = `client-${id.split('/').pop() ?? ''}-${server.label}`;
        const envoy = await startEnvoy(name, uid, (adminPort) => clientSidecar({ nodeId: name, adminPort, socketPath, apiType: 'GRPC', validation: 'ROOTCA', peerId: SERVER_ID, listenPort: port, serverPort: server.port }));
        clients.push({ id, server, envoy, port });
      }
    }
    await Promise.all(envoys.map((envoy) => envoy.ready()));
  });

  after(async () => {
    await Promise.all(envoys.map((envoy) => envoy.stop()));
    await agents.stopAll();
    await backend?.close();
    servers = [];
    clients = [];
    await removeTempDirs();
  });

  it('serves the server Envoys a validation context admitting only client A, in both validator forms', async () => {
    await serversHold([`URI exact ${CLIENT_A}`], 'allowedPeers [client A]');
    const spiffeDump = await servers[0]?.envoy.admin('/config_dump?resource=dynamic_active_secrets');
    assert.match(spiffeDump ?? '', /envoy\.tls\.cert_validator\.spiffe/, 'the first server uses the SPIFFE validator');
    const caDump = await servers[1]?.envoy.admin('/config_dump?resource=dynamic_active_secrets');
    assert.match(caDump ?? '', /"trusted_ca"/, 'the second uses trusted_ca');
    // The clients' entries carry no allowedPeers: their validation contexts have no matcher.
    for (const client of clients) assert.deepEqual((await heldMatchers(client.envoy, 'ROOTCA'))?.matchers, []);
  });

  it('client A gets 200; client B is refused at the TLS handshake (fail_verify_san) and never reaches the backend', async () => {
    const failuresBefore = await sanFailures();
    const outcomes = await requestAll();
    expectOutcomes(outcomes, CLIENT_A);
    const failuresAfter = await sanFailures();
    servers.forEach((server, index) => assert.ok((failuresAfter[index] ?? 0) > (failuresBefore[index] ?? 0), `${server.label} refused B for its SAN`));
    assert.ok(backend.seen.every((seen) => seen.clientId === CLIENT_A), JSON.stringify(backend.seen));
  });

  it('a live edit of the entries file flips both: B allowed, A refused, without restarting any Envoy', async () => {
    const versions = await Promise.all(servers.map(async (server) => (await heldMatchers(server.envoy, server.validation))?.version));
    await writeEntries(`  allowedPeers: ['${CLIENT_B}']\n`);
    await serversHold([`URI exact ${CLIENT_B}`], 'the pushed allowedPeers [client B]');
    const versionsAfter = await Promise.all(servers.map(async (server) => (await heldMatchers(server.envoy, server.validation))?.version));
    servers.forEach((server, index) => assert.notEqual(versionsAfter[index], versions[index], `${server.label}: a new secret version`));

    const failuresBefore = await sanFailures();
    const seenBefore = backend.seen.length;
    expectOutcomes(await requestAll(), CLIENT_B);
    const failuresAfter = await sanFailures();
    servers.forEach((server, index) => assert.ok((failuresAfter[index] ?? 0) > (failuresBefore[index] ?? 0), `${server.label} refused A for its SAN`));
    assert.ok(backend.seen.slice(seenBefore).every((seen) => seen.clientId === CLIENT_B));
  });

  it('a "/*" path prefix admits both clients', async () => {
    await writeEntries(`  allowedPeers: ['spiffe://example.org/clients/*']\n`);
    await serversHold(['URI prefix spiffe://example.org/clients/'], 'the prefix matcher');
    const outcomes = await requestAll();
    for (const [key, status] of outcomes) assert.equal(status, 200, key);
  });

  it('an entries file with an invalid allowedPeers item is refused: the agent counts it and Envoys keep the last good policy', async () => {
    const invalidBefore = await metric('meshid_entries_reloads_total{result="invalid"}');
    const versions = await Promise.all(servers.map(async (server) => (await heldMatchers(server.envoy, server.validation))?.version));
    await writeEntries(`  allowedPeers: ['clients/a']\n`);
    await eventually(async () => (await metric('meshid_entries_reloads_total{result="invalid"}')) > invalidBefore, 'the agent refusing the file', 30_000);
    const outcomes = await requestAll();
    for (const [key, status] of outcomes) assert.equal(status, 200, `${key}: the last good policy (prefix) stays`);
    const versionsAfter = await Promise.all(servers.map(async (server) => (await heldMatchers(server.envoy, server.validation))?.version));
    assert.deepEqual(versionsAfter, versions, 'nothing was pushed');
  });

  it('removing allowedPeers removes the matcher (any peer of the bundle again); Envoy rejected nothing throughout', async () => {
    await writeEntries('');
    await serversHold([], 'no matcher');
    for (const [key, status] of await requestAll()) assert.equal(status, 200, key);
    for (const envoy of envoys) assert.equal(await envoy.statSum(/^sds\..*\.update_rejected$/), 0, `${envoy.name} rejected an update\n${envoy.logTail()}`);
  });

  it('(the pitfall the README warns of) a static SAN matcher in combined_validation_context widens allowedPeers: Envoy admits a peer matching either list', async () => {
    await writeEntries(`  allowedPeers: ['${CLIENT_A}']\n`);
    await serversHold([`URI exact ${CLIENT_A}`], 'allowedPeers [client A] again');
    const socketPath = path.join(dir, 'agent.sock');
    const port = await freePort();
    // Static default_validation_context admitting B, merged by Envoy with meshid's secret admitting A.
    const combined = await startEnvoy('server-combined', UIDS.server, (adminPort) => serverSidecar({ nodeId: 'server-combined', adminPort, socketPath, apiType: 'GRPC', validation: 'ROOTCA', peerId: CLIENT_B, listenPort: port, backendPort: backend.port }));
    const callers = await Promise.all(
      ([[CLIENT_A, UIDS.a], [CLIENT_B, UIDS.b]] as const).map(async ([id, uid]) => {
        const listenPort = await freePort();
        const name = `client-${id.split('/').pop() ?? ''}-combined`;
        const envoy = await startEnvoy(name, uid, (adminPort) => clientSidecar({ nodeId: name, adminPort, socketPath, apiType: 'GRPC', validation: 'ROOTCA', peerId: SERVER_ID, listenPort, serverPort: port }));
        return { id, envoy, listenPort };
      }),
    );
    await Promise.all([combined, ...callers.map((caller) => caller.envoy)].map((envoy) => envoy.ready()));
    await eventually(async () => JSON.stringify((await heldMatchers(combined, 'ROOTCA'))?.matchers) === JSON.stringify([`URI exact ${CLIENT_A}`]), 'server-combined holding meshid\'s [client A]', 30_000);
    for (const caller of callers) {
      const outcome = await get(caller.listenPort, `/authz/${++requestCounter}`);
      assert.equal(outcome.status, 200, `${caller.id} is admitted by one of the two lists: ${JSON.stringify(outcome)}`);
    }
  });
});
