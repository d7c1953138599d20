import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { decodeSecret, sdsClient, SECRET_TYPE_URL, type DiscoveryResponse, type SdsClient } from '../support/envoy-protos';
import { pemBlocks, uriSan } from '../support/pem';
import { removeTempDirs } from '../support/temp-dir';
import { StreamReader } from '../support/workload-client';
import { agent, agentConfigRaw, agentPod, collect, envoy, envoyBootstrap, manifests, workload, workloadPod } from './support/deployed-files';
import { EnvoyProtoShape } from './support/envoy-proto-shape';
import { mountHolding, volumeNamed, workloadSpec } from './support/pod-spec';
import { only } from './support/repo-files';

/** The SPIFFE ID the ConfigMap's template entry gives this Deployment's pods. */
function workloadSpiffeId(): string {
  const config = agentConfigRaw();
  const [entry] = config.entries as { spiffeIdTemplate: string }[];
  const values: Record<string, string | undefined> = { trustDomain: config.trustDomain as string, 'k8s.ns': workload.metadata.namespace, 'k8s.sa': workloadPod.serviceAccountName };
  return (entry?.spiffeIdTemplate ?? '').replace(/\{\{([\w.]+)\}\}/g, (_, name: string) => values[name] ?? `<${name}?>`);
}

/** Names in every *_sds_secret_config(s) of the bootstrap, in order. */
function requestedSecretNames(bootstrap: unknown): string[] {
  const configs = [...collect(bootstrap, 'tls_certificate_sds_secret_configs').flat(), ...collect(bootstrap, 'validation_context_sds_secret_config')] as { name: string }[];
  return configs.map((config) => config.name);
}

describe('deploy/kubernetes: the example workload with an Envoy sidecar', () => {
  test('its selector matches its pod labels, and its Service reaches the mTLS port', () => {
    const spec = workloadSpec(workload);
    for (const [key, value] of Object.entries(spec.selector.matchLabels)) assert.equal(spec.template.metadata.labels[key], value, key);
    const service = only(manifests, 'Service', 'web');
    const { selector, ports } = service.spec as { selector: Record<string, string>; ports: { targetPort: number }[] };
    for (const [key, value] of Object.entries(selector)) assert.equal(spec.template.metadata.labels[key], value, key);
    for (const port of ports) assert.ok(envoy.ports?.some((declared) => declared.containerPort === port.targetPort), `nothing listens on ${port.targetPort}`);
  });

  test('Envoy mounts the agent socket directory read-only, from the same host path', () => {
    const socketPath = agentConfigRaw().socketPath as string;
    const { volume, mount, relative } = mountHolding(workloadPod, envoy, socketPath);
    assert.equal(relative, path.basename(socketPath));
    assert.equal(mount.readOnly, true);
    assert.equal(volume.hostPath?.path, volumeNamed(agentPod, mountHolding(agentPod, agent, socketPath).mount.name).hostPath?.path);
  });

  test('the pod runs unprivileged, Envoy from a v1.31 image', () => {
    assert.equal(workloadPod.securityContext?.runAsNonRoot, true);
    for (const container of workloadPod.containers) {
      assert.deepEqual(container.securityContext?.capabilities, { drop: ['ALL'] }, container.name);
      assert.equal(container.securityContext?.allowPrivilegeEscalation, false, container.name);
      assert.equal(container.securityContext?.readOnlyRootFilesystem, true, container.name);
    }
    assert.match(envoy.image ?? '', /^envoyproxy\/envoy:v1\.31\.\d+$/);
  });

  test("the bootstrap conforms to Envoy's v3 protos", () => {
    assert.deepEqual(new EnvoyProtoShape().problems(envoyBootstrap(), 'envoy.config.bootstrap.v3.Bootstrap'), []);
  });

  test('every SDS request goes over HTTP/2 to the agent socket', () => {
    const bootstrap = envoyBootstrap();
    const sdsClusters = new Set(collect(collect(bootstrap, 'sds_config'), 'cluster_name'));
    assert.equal(sdsClusters.size, 1, `SDS goes to ${[...sdsClusters].join(', ')}`);
    const clusters = (bootstrap.static_resources as { clusters: Record<string, unknown>[] }).clusters;
    const sds = clusters.find((cluster) => cluster.name === [...sdsClusters][0]);
    assert.ok(sds, 'the SDS cluster is not defined');
    assert.deepEqual(collect(sds, 'pipe'), [{ path: agentConfigRaw().socketPath }]);
    assert.deepEqual(collect(sds, 'explicit_http_config').map((config) => Object.keys(config as object)), [['http2_protocol_options']], 'gRPC needs HTTP/2');
  });

  test("the SAN matchers accept the trust domain inbound and the template's identity outbound", () => {
    const matchers = collect(envoyBootstrap(), 'match_typed_subject_alt_names').flat() as { san_type: string; matcher: Record<string, string> }[];
    assert.deepEqual(matchers, [
      { san_type: 'URI', matcher: { prefix: `spiffe://${String(agentConfigRaw().trustDomain)}/` } },
      { san_type: 'URI', matcher: { exact: workloadSpiffeId() } },
    ]);
  });
});

describe('a real agent serves every secret the example bootstrap asks for', () => {
  let harness: Harness;
  let client: SdsClient;
  const streams: { cancel(): void }[] = [];
  before(async () => {
    // This process stands in for the pod: it gets the identity the template would give it.
    harness = await startTestAgent({ entries: [{ spiffeId: workloadSpiffeId(), selectors: [`unix:uid:${process.getuid?.() ?? 0}`] }] });
    client = sdsClient(harness.socketPath);
  });
  after(async () => {
    for (const stream of streams.splice(0)) stream.cancel();
    client?.close();
    await harness?.agent.stop();
    await removeTempDirs();
  });

  test('one stream per name, as Envoy opens them; each answer carries that name', async () => {
    const names = [...new Set(requestedSecretNames(envoyBootstrap()))];
    assert.deepEqual(names.sort(), ['ROOTCA', 'default']);
    for (const name of names) {
      const stream = client.StreamSecrets();
      streams.push(stream);
      const reader = new StreamReader<DiscoveryResponse>(stream);
      stream.write({ type_url: SECRET_TYPE_URL, resource_names: [name], node: { id: 'web', cluster: 'web.meshid-demo' } });
      const response = await reader.next();
      const secrets = response.resources.map((resource) => decodeSecret(resource));
      assert.deepEqual(secrets.map((secret) => secret.name), [name], 'Envoy ignores a secret of another name');
      const [secret] = secrets;
      if (name === 'default') assert.equal(uriSan(pemBlocks(secret?.tls_certificate?.certificate_chain?.inline_bytes?.toString() ?? '')[0] ?? ''), workloadSpiffeId());
      else assert.ok(pemBlocks(secret?.validation_context?.trusted_ca?.inline_bytes?.toString() ?? '').length > 0, 'ROOTCA carries no trusted_ca');
    }
  });
});
