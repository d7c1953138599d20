import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, test } from 'node:test';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { sdsClient, type DiscoveryResponse, type SdsClient } from '../support/envoy-protos';
import { pemBlocks } from '../support/pem';
import { removeTempDirs } from '../support/temp-dir';
import { decodeOfficialSecret, decodeSpiffeValidator, SECRET_TYPE_URL, SPIFFE_VALIDATOR_TYPE_URL, type OfficialSecret } from '../sds/support/official-envoy';
import { deltaRequest, deltaSecrets, envoyNode, MODERN_ENVOY, StreamJanitor } from '../sds/support/sds-streams';

const uid = process.getuid?.() ?? 0;
const ID = 'spiffe://example.org/sidecar';
const TRUST_DOMAIN_NAME = 'spiffe://example.org';
let harness: Harness;
let client: SdsClient;
const janitor = new StreamJanitor();

before(async () => {
  harness = await startTestAgent({ entries: [{ spiffeId: ID, selectors: [`unix:uid:${uid}`] }] });
  client = sdsClient(harness.socketPath);
});
after(async () => {
  janitor.cleanAll();
  client?.close();
  await harness?.agent.stop();
  await removeTempDirs();
});

function fetchSecrets(names: string[], node?: object): Promise<Map<string, OfficialSecret>> {
  const request = { type_url: SECRET_TYPE_URL, resource_names: names, ...(node ? { node } : {}) };
  return new Promise((resolve, reject) =>
    client.FetchSecrets(request, (error, response) => {
      if (error || !response) return reject(error ?? new Error('no response'));
      resolve(new Map(response.resources.map((resource) => decodeOfficialSecret(resource)).map((secret) => [secret.name, secret])));
    }),
  );
}

const bySecretName = (response: DiscoveryResponse): Map<string, OfficialSecret> =>
  new Map(response.resources.map((resource) => decodeOfficialSecret(resource)).map((secret) => [secret.name, secret]));

/** The roots of a SPIFFE-validator validation context, after checking its shape with Envoy's types. */
function spiffeValidatorRoots(secret: OfficialSecret | undefined): string[] {
  assert.ok(secret, 'secret present');
  const context = secret.validation_context;
  assert.equal(context?.trusted_ca, undefined, `${secret.name}: no trusted_ca beside the validator`);
  assert.equal(context?.custom_validator_config?.name, 'envoy.tls.cert_validator.spiffe', secret.name);
  assert.equal(context?.custom_validator_config?.typed_config?.type_url, SPIFFE_VALIDATOR_TYPE_URL, secret.name);
  const config = decodeSpiffeValidator(secret);
  assert.deepEqual(config.trust_domains?.map((domain) => domain.name), ['example.org'], 'one entry per trust domain, named without scheme');
  return pemBlocks(config.trust_domains?.[0]?.trust_bundle?.inline_bytes?.toString() ?? '');
}

function trustedCaRoots(secret: OfficialSecret | undefined): string[] {
  assert.ok(secret, 'secret present');
  assert.equal(secret.validation_context?.custom_validator_config, undefined, `${secret.name}: plain trusted_ca form`);
  return pemBlocks(secret.validation_context?.trusted_ca?.inline_bytes?.toString() ?? '');
}

test('ALL and spiffe://<td> carry the SPIFFE validator for Envoy 1.18+ (Fetch, SotW, Delta); ROOTCA stays trusted_ca; the roots verify the served chain', async () => {
  const fetched = await fetchSecrets(['default', 'ROOTCA', 'ALL', TRUST_DOMAIN_NAME], MODERN_ENVOY);
  const roots = trustedCaRoots(fetched.get('ROOTCA'));
  assert.equal(roots.length, 1);
  assert.deepEqual(spiffeValidatorRoots(fetched.get('ALL')), roots, 'ALL holds the same bundle');
  assert.deepEqual(spiffeValidatorRoots(fetched.get(TRUST_DOMAIN_NAME)), roots);
  const chain = pemBlocks(fetched.get('default')?.tls_certificate?.certificate_chain?.inline_bytes?.toString() ?? '');
  const intermediate = new X509Certificate(chain[1] ?? '');
  const root = new X509Certificate(roots[0] ?? '');
  assert.ok(intermediate.checkIssued(root) && intermediate.verify(root.publicKey), 'the validator bundle verifies the served chain');

  const sotw = janitor.sotw(client);
  sotw.stream.write({ type_url: SECRET_TYPE_URL, resource_names: ['ALL', TRUST_DOMAIN_NAME], node: MODERN_ENVOY });
  const streamed = bySecretName(await sotw.reader.next());
  assert.deepEqual(spiffeValidatorRoots(streamed.get('ALL')), roots);
  assert.deepEqual(spiffeValidatorRoots(streamed.get(TRUST_DOMAIN_NAME)), roots);
  sotw.stream.end();

  const delta = janitor.delta(client);
  delta.stream.write(deltaRequest({ subscribe: ['ALL', TRUST_DOMAIN_NAME, 'ROOTCA'], node: MODERN_ENVOY }));
  const secrets = deltaSecrets(await delta.reader.next());
  assert.deepEqual(spiffeValidatorRoots(secrets.get('ALL')?.secret), roots);
  assert.deepEqual(spiffeValidatorRoots(secrets.get(TRUST_DOMAIN_NAME)?.secret), roots);
  assert.deepEqual(trustedCaRoots(secrets.get('ROOTCA')?.secret), roots);
  delta.stream.end();
});

test('node metadata disable_spiffe_cert_validation (bool true or a true string) gives trusted_ca; false values do not', async () => {
  const cases: [boolean | string, 'trusted-ca' | 'spiffe'][] = [
    [true, 'trusted-ca'],
    ['true', 'trusted-ca'],
    ['True', 'trusted-ca'],
    [false, 'spiffe'],
    ['false', 'spiffe'],
    ['not-a-boolean', 'spiffe'],
  ];
  for (const [value, expected] of cases) {
    const node = envoyNode({ version: [1, 31], metadata: { disable_spiffe_cert_validation: value } });
    const fetched = await fetchSecrets(['ALL', TRUST_DOMAIN_NAME], node);
    for (const name of ['ALL', TRUST_DOMAIN_NAME]) {
      const secret = fetched.get(name);
      const form = secret?.validation_context?.custom_validator_config ? 'spiffe' : 'trusted-ca';
      assert.equal(form, expected, `${JSON.stringify(value)} → ${name}`);
      assert.equal((form === 'spiffe' ? spiffeValidatorRoots(secret) : trustedCaRoots(secret)).length, 1);
    }
  }
  // The same opt-out on a Delta stream.
  const delta = janitor.delta(client);
  delta.stream.write(deltaRequest({ subscribe: ['ALL'], node: envoyNode({ version: [1, 31], metadata: { disable_spiffe_cert_validation: 'true' } }) }));
  assert.equal(trustedCaRoots(deltaSecrets(await delta.reader.next()).get('ALL')?.secret).length, 1);
  delta.stream.end();
});

test('an Envoy older than 1.18, or one that reports no build version, gets trusted_ca', async () => {
  const cases: [NonNullable<Parameters<typeof envoyNode>[0]>, 'trusted-ca' | 'spiffe'][] = [
    [{ version: [1, 17] }, 'trusted-ca'],
    [{ version: [0, 99] }, 'trusted-ca'],
    [{ version: [1, 18] }, 'spiffe'],
    [{ version: [2, 0] }, 'spiffe'],
    [{}, 'trusted-ca'],
  ];
  for (const [options, expected] of cases) {
    const fetched = await fetchSecrets(['ALL', TRUST_DOMAIN_NAME], envoyNode(options));
    for (const secret of fetched.values()) {
      assert.equal(secret.validation_context?.custom_validator_config ? 'spiffe' : 'trusted-ca', expected, `${JSON.stringify(options)} → ${secret.name}`);
    }
  }
  const withoutNode = await fetchSecrets(['ALL']);
  assert.equal(trustedCaRoots(withoutNode.get('ALL')).length, 1, 'no node at all');
});

test('the node is read from the first message of a stream only (SotW and Delta)', async () => {
  const optedOut = envoyNode({ version: [1, 31], metadata: { disable_spiffe_cert_validation: true } });

  // SotW: an opted-out first message; a later message with another node does not change the form.
  const sotw = janitor.sotw(client);
  sotw.stream.write({ type_url: SECRET_TYPE_URL, resource_names: ['ALL'], node: optedOut });
  const first = await sotw.reader.next();
  trustedCaRoots(bySecretName(first).get('ALL'));
  sotw.stream.write({ type_url: SECRET_TYPE_URL, resource_names: ['ALL', TRUST_DOMAIN_NAME], version_info: first.version_info, response_nonce: first.nonce, node: MODERN_ENVOY });
  const second = bySecretName(await sotw.reader.next());
  trustedCaRoots(second.get('ALL'));
  trustedCaRoots(second.get(TRUST_DOMAIN_NAME));
  sotw.stream.end();

  // SotW: node on the first message only (set_node_on_first_message_only), later ones without.
  const firstOnly = janitor.sotw(client);
  firstOnly.stream.write({ type_url: SECRET_TYPE_URL, resource_names: ['ROOTCA'], node: MODERN_ENVOY });
  const rootOnly = await firstOnly.reader.next();
  firstOnly.stream.write({ type_url: SECRET_TYPE_URL, resource_names: ['ALL'], version_info: rootOnly.version_info, response_nonce: rootOnly.nonce });
  spiffeValidatorRoots(bySecretName(await firstOnly.reader.next()).get('ALL'));
  firstOnly.stream.end();

  // Delta, both ways round.
  const delta = janitor.delta(client);
  delta.stream.write(deltaRequest({ subscribe: ['ALL'], node: MODERN_ENVOY }));
  spiffeValidatorRoots(deltaSecrets(await delta.reader.next()).get('ALL')?.secret);
  delta.stream.write(deltaRequest({ subscribe: [TRUST_DOMAIN_NAME] }));
  spiffeValidatorRoots(deltaSecrets(await delta.reader.next()).get(TRUST_DOMAIN_NAME)?.secret);
  delta.stream.end();

  const noNodeFirst = janitor.delta(client);
  noNodeFirst.stream.write(deltaRequest({ subscribe: ['ROOTCA'] }));
  await noNodeFirst.reader.next();
  noNodeFirst.stream.write(deltaRequest({ subscribe: ['ALL'], node: MODERN_ENVOY }));
  trustedCaRoots(deltaSecrets(await noNodeFirst.reader.next()).get('ALL')?.secret);
  noNodeFirst.stream.end();
});

test('a validation context\'s version names its form: the same on every stream for the same form, different across forms', async () => {
  const versionOf = async (node: object): Promise<string> => {
    const delta = janitor.delta(client);
    delta.stream.write(deltaRequest({ subscribe: ['ALL'], node }));
    const version = deltaSecrets(await delta.reader.next()).get('ALL')?.version ?? '';
    delta.stream.end();
    return version;
  };
  const modern = await versionOf(MODERN_ENVOY);
  assert.equal(await versionOf(envoyNode({ version: [1, 25] })), modern);
  assert.notEqual(await versionOf(envoyNode({ version: [1, 17] })), modern, 'an Envoy that switches form gets the new content');
});
