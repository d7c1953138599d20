import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EnvoyProtoShape } from './support/envoy-proto-shape';

// The bootstrap check in manifests.test.ts is only as good as this checker: each case is a
// mistake Envoy refuses at start-up, and the checker must name it.
const shape = new EnvoyProtoShape();
const BOOTSTRAP = 'envoy.config.bootstrap.v3.Bootstrap';

function pipeCluster(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'meshid_sds',
    type: 'STATIC',
    load_assignment: { cluster_name: 'meshid_sds', endpoints: [{ lb_endpoints: [{ endpoint: { address: { pipe: { path: '/run/meshid/agent.sock' } } } }] }] },
    ...extra,
  };
}

const withCluster = (cluster: Record<string, unknown>): unknown => ({ static_resources: { clusters: [cluster] } });

test('a well-formed cluster passes', () => {
  const http2 = {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      explicit_http_config: { http2_protocol_options: {} },
    },
  };
  assert.deepEqual(shape.problems(withCluster(pipeCluster({ connect_timeout: '0.25s', typed_extension_protocol_options: http2 })), BOOTSTRAP), []);
});

test('a misspelled field is named with its path', () => {
  assert.deepEqual(shape.problems(withCluster(pipeCluster({ conect_timeout: '1s' })), BOOTSTRAP), ['Bootstrap.static_resources.clusters[0].conect_timeout: no such field in envoy.config.cluster.v3.Cluster']);
});

test('an unknown enum name, a malformed duration and a wrong value kind are refused', () => {
  const problems = shape.problems(withCluster(pipeCluster({ type: 'STATIK', connect_timeout: '1000ms', per_connection_buffer_limit_bytes: 'lots' })), BOOTSTRAP);
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.match(problems.join('\n'), /clusters\[0\]\.type: "STATIK" is not a value of envoy\.config\.cluster\.v3\.Cluster\.DiscoveryType/);
  assert.match(problems.join('\n'), /connect_timeout: a duration is written like/);
  assert.match(problems.join('\n'), /per_connection_buffer_limit_bytes: must be/);
});

test('two members of one oneof, and a missing required oneof, are refused', () => {
  const both = pipeCluster();
  (both.load_assignment as { endpoints: { lb_endpoints: { endpoint: { address: Record<string, unknown> } }[] }[] }).endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address = { address: '127.0.0.1', port_value: 1 };
  assert.match(shape.problems(withCluster(both), BOOTSTRAP).join('\n'), /pipe and socket_address are one of "address"|socket_address and pipe are one of "address"/);

  const neither = pipeCluster();
  (neither.load_assignment as { endpoints: { lb_endpoints: { endpoint: { address: Record<string, unknown> } }[] }[] }).endpoints[0]!.lb_endpoints[0]!.endpoint.address = {};
  assert.match(shape.problems(withCluster(neither), BOOTSTRAP).join('\n'), /address: one of socket_address, pipe, envoy_internal_address is required/);
});

test('a deprecated field is refused', () => {
  assert.match(shape.problems({ node: { id: 'x', listening_addresses: [] } }, BOOTSTRAP).join('\n'), /node\.listening_addresses: deprecated/);
});

test('typed_config is checked as the message its "@type" names, and an unknown "@type" is refused', () => {
  const socket = (typedConfig: Record<string, unknown>): unknown => withCluster(pipeCluster({ transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: typedConfig } }));
  assert.match(
    shape.problems(socket({ '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', common_tls_context: { tls_certificate_sds_secret_config: [{ name: 'default' }] } }), BOOTSTRAP).join('\n'),
    /typed_config<UpstreamTlsContext>\.common_tls_context\.tls_certificate_sds_secret_config: no such field/,
  );
  assert.match(shape.problems(socket({ '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.NoSuchContext' }), BOOTSTRAP).join('\n'), /no proto message envoy\.extensions\.transport_sockets\.tls\.v3\.NoSuchContext/);
});

test('an empty secret name is refused (protoc-gen-validate min_len)', () => {
  const sds = { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', common_tls_context: { tls_certificate_sds_secret_configs: [{ name: '' }] } };
  assert.match(shape.problems(withCluster(pipeCluster({ transport_socket: { name: 'tls', typed_config: sds } })), BOOTSTRAP).join('\n'), /tls_certificate_sds_secret_configs\[0\]\.name: must not be shorter than 1/);
});
