import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { resolveSecretName } from '../../src/sds/secret-names';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { sdsClient, type DiscoveryResponse } from '../support/envoy-protos';
import { removeTempDirs } from '../support/temp-dir';
import { decodeOfficialSecret, officialRoot, SECRET_TYPE_URL, typeForUrl } from '../sds/support/official-envoy';
import { StrictProtoJson } from './strict-proto-json';

const DEPLOY_DIR = path.join(__dirname, '..', '..', '..', 'deploy', 'envoy');
const BOOTSTRAP = 'envoy.config.bootstrap.v3.Bootstrap';
const SDS_SECRET_CONFIG = 'envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig';
/** The one sds_config every secret uses: meshid through the static cluster sds-grpc. */
const EXPECTED_SDS_CONFIG = {
  resource_api_version: 'V3',
  api_config_source: {
    api_type: 'GRPC',
    transport_api_version: 'V3',
    set_node_on_first_message_only: true,
    grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }],
  },
};
const MESHID_SOCKET = '/run/meshid/agent.sock';

interface ParsedBootstrap {
  readonly yaml: Record<string, unknown>;
  readonly secretConfigs: { name: string; sds_config: unknown; path: string }[];
  readonly messages: { typeName: string; value: Record<string, unknown>; path: string }[];
}

function parseBootstrap(file: string): ParsedBootstrap {
  const yaml = parse(readFileSync(path.join(DEPLOY_DIR, file), 'utf8')) as Record<string, unknown>;
  const secretConfigs: ParsedBootstrap['secretConfigs'] = [];
  const messages: ParsedBootstrap['messages'] = [];
  const strict = new StrictProtoJson(officialRoot(), (typeName, value, at) => {
    messages.push({ typeName, value, path: at });
    if (typeName === SDS_SECRET_CONFIG) secretConfigs.push({ name: String(value.name), sds_config: value.sds_config, path: at });
  });
  strict.encode(BOOTSTRAP, yaml);
  return { yaml, secretConfigs, messages };
}

const ofType = (parsed: ParsedBootstrap, typeName: string) => parsed.messages.filter((message) => message.typeName === typeName);
const sidecarEntries = [{ spiffeId: 'spiffe://example.org/web', selectors: ['unix:uid:1337'], dnsNames: [] }];

describe('the strict parser itself', () => {
  const strict = new StrictProtoJson(officialRoot());
  const base = (): Record<string, unknown> => parse(readFileSync(path.join(DEPLOY_DIR, 'envoy-sidecar.yaml'), 'utf8')) as Record<string, unknown>;
  const tlsContext = (yaml: Record<string, unknown>): Record<string, unknown> => {
    const listeners = (yaml.static_resources as { listeners: { filter_chains: { transport_socket: { typed_config: Record<string, unknown> } }[] }[] }).listeners;
    const context = listeners[0]?.filter_chains[0]?.transport_socket.typed_config;
    assert.ok(context);
    return context;
  };

  test('accepts the file as written, and what it encodes decodes back with the official types', () => {
    const bytes = strict.encode(BOOTSTRAP, base());
    const bootstrap = officialRoot().lookupType(BOOTSTRAP);
    const decoded = bootstrap.toObject(bootstrap.decode(bytes)) as { static_resources: { listeners: { filter_chains: { transport_socket: { typed_config: { type_url: string; value: Uint8Array } } }[] }[] } };
    const typed = decoded.static_resources.listeners[0]?.filter_chains[0]?.transport_socket.typed_config;
    assert.ok(typed);
    const context = typeForUrl(typed.type_url);
    const tls = context.toObject(context.decode(typed.value)) as { require_client_certificate?: { value?: boolean }; common_tls_context?: { tls_certificate_sds_secret_configs?: { name: string }[] } };
    assert.equal(tls.require_client_certificate?.value, true);
    assert.deepEqual(tls.common_tls_context?.tls_certificate_sds_secret_configs?.map((config) => config.name), ['default']);
  });

  test('rejects unknown fields (top level, and inside an Any resolved by @type), bad enums, bad durations, two oneof members, unknown @type', () => {
    const cases: [string, (yaml: Record<string, unknown>) => void, RegExp][] = [
      ['top-level typo', (yaml) => (yaml.static_resource = {}), /unknown field "static_resource"/],
      ['field unknown inside typed_config', (yaml) => (tlsContext(yaml).require_client_certificates = true), /unknown field "require_client_certificates".*DownstreamTlsContext/],
      ['bad enum', (yaml) => ((tlsContext(yaml).common_tls_context as { combined_validation_context: { default_validation_context: { match_typed_subject_alt_names: { san_type: string }[] } } }).combined_validation_context.default_validation_context.match_typed_subject_alt_names[0]!.san_type = 'URL'), /not a value of enum SanType/],
      ['bad duration', (yaml) => (((yaml.static_resources as { clusters: Record<string, unknown>[] }).clusters[0]!).connect_timeout = 1), /duration/],
      ['two oneof members', (yaml) => (((yaml.static_resources as { clusters: Record<string, unknown>[] }).clusters[0]!).cluster_type = { name: 'x' }), /oneof/],
      ['unknown @type', (yaml) => (tlsContext(yaml)['@type'] = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContxt'), /unknown @type/],
      ['wrong scalar kind', (yaml) => (tlsContext(yaml).require_client_certificate = 'yes'), /is not a bool/],
    ];
    for (const [label, mutate, expected] of cases) {
      const yaml = base();
      mutate(yaml);
      assert.throws(() => strict.encode(BOOTSTRAP, yaml), expected, label);
    }
  });
});

for (const [file, expectedNames] of [
  ['envoy-sidecar.yaml', ['default', 'ROOTCA']],
  ['envoy-sidecar-spiffe-validator.yaml', ['default', 'ALL', 'spiffe://example.org']],
] as const) {
  describe(file, () => {
    const parsed = parseBootstrap(file);

    test('parses strictly into envoy.config.bootstrap.v3.Bootstrap (official protos)', () => {
      assert.ok(parsed.messages.length > 50, 'the whole tree was walked');
    });

    test('every SDS secret name is one meshid serves, and every sds_config is the same meshid source', () => {
      assert.deepEqual([...new Set(parsed.secretConfigs.map((config) => config.name))].sort(), [...expectedNames].sort());
      for (const config of parsed.secretConfigs) {
        assert.ok(resolveSecretName(config.name, sidecarEntries, 'example.org'), `${config.path}: meshid serves ${config.name}`);
        assert.deepEqual(config.sds_config, EXPECTED_SDS_CONFIG, config.path);
      }
      assert.equal(parsed.secretConfigs.length, 4, 'TLS certificate and validation context, inbound and outbound');
    });

    test('sds-grpc is a static HTTP/2 cluster on meshid\'s socket', () => {
      const clusters = (parsed.yaml.static_resources as { clusters: Record<string, unknown>[] }).clusters;
      const sds = clusters.find((cluster) => cluster.name === 'sds-grpc');
      assert.ok(sds);
      assert.equal(sds.type, 'STATIC');
      const options = (sds.typed_extension_protocol_options as Record<string, Record<string, unknown>>)['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
      assert.equal(options?.['@type'], 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions');
      assert.deepEqual((options?.explicit_http_config as Record<string, unknown>).http2_protocol_options, {});
      const pipes = ofType(parsed, 'envoy.config.core.v3.Pipe').map((pipe) => pipe.value.path);
      assert.deepEqual(pipes, [MESHID_SOCKET]);
    });

    test('inbound requires a client certificate and checks URI SANs against SPIFFE IDs; outbound checks the server\'s', () => {
      const downstream = ofType(parsed, 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext');
      assert.equal(downstream.length, 1);
      assert.equal(downstream[0]?.value.require_client_certificate, true);
      assert.equal(ofType(parsed, 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext').length, 1);
      const matchers = ofType(parsed, 'envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher');
      assert.equal(matchers.length, 2);
      for (const matcher of matchers) {
        assert.equal(matcher.value.san_type, 'URI', matcher.path);
        assert.match(String((matcher.value.matcher as Record<string, unknown>).exact), /^spiffe:\/\/example\.org\/[a-z]+$/, matcher.path);
      }
    });
  });
}

describe('the names the deploy files use, asked of a running meshid', () => {
  let harness: Harness;
  before(async () => {
    harness = await startTestAgent({ entries: [{ spiffeId: 'spiffe://example.org/web', selectors: [`unix:uid:${process.getuid?.() ?? 0}`] }] });
  });
  after(async () => {
    await harness?.agent.stop();
    await removeTempDirs();
  });

  test('are all answered, each Secret named as asked', async () => {
    const names = [...new Set([...parseBootstrap('envoy-sidecar.yaml').secretConfigs, ...parseBootstrap('envoy-sidecar-spiffe-validator.yaml').secretConfigs].map((config) => config.name))];
    const client = sdsClient(harness.socketPath);
    try {
      const response = await new Promise<DiscoveryResponse>((resolve, reject) =>
        client.FetchSecrets({ type_url: SECRET_TYPE_URL, resource_names: names }, (error, result) => (error || !result ? reject(error ?? new Error('no response')) : resolve(result))),
      );
      assert.deepEqual(response.resources.map((resource) => decodeOfficialSecret(resource).name), names);
    } finally {
      client.close();
    }
  });
});
