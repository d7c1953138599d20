/**
 * Envoy v3 bootstraps for the interop tests, built as objects and written as JSON (Envoy reads
 * JSON or YAML by the file's extension). Field names are the v3 API's
 * (envoyproxy.io/docs/envoy/latest/api-v3/config/bootstrap/v3/bootstrap.proto).
 */

/** `GRPC` = state of the world (StreamSecrets), `DELTA_GRPC` = incremental (DeltaSecrets). */
export type SdsApiType = 'GRPC' | 'DELTA_GRPC';

/** The validation context a sidecar asks meshid for: `ROOTCA` (trusted_ca) or a trust domain (SPIFFE validator). */
export type ValidationSecret = 'ROOTCA' | `spiffe://${string}`;

export interface SidecarCommon {
  readonly nodeId: string;
  readonly adminPort: number;
  readonly socketPath: string;
  readonly apiType: SdsApiType;
  readonly validation: ValidationSecret;
  /**
   * The SPIFFE ID the peer must present (match_typed_subject_alt_names in the static
   * default_validation_context). Omitted: the validation context is meshid's alone, with whatever
   * matchers meshid sends (allowedPeers). Envoy merges the static and the dynamic context with
   * protobuf MergeFrom, which appends repeated fields: matchers from both lists would each admit a
   * peer, so a static matcher would widen what meshid allows, never narrow it.
   */
  readonly peerId?: string;
}

const SDS_CLUSTER = 'sds-grpc';

/** One sds_config for every secret: meshid's socket through the static cluster sds-grpc. */
function sdsConfig(apiType: SdsApiType): object {
  return {
    resource_api_version: 'V3',
    api_config_source: {
      api_type: apiType,
      transport_api_version: 'V3',
      // meshid reads node (and so the build version) from the first message only.
      set_node_on_first_message_only: true,
      grpc_services: [{ envoy_grpc: { cluster_name: SDS_CLUSTER } }],
    },
  };
}

/**
 * `default` (this Envoy's SVID) plus a validation context from meshid, combined with a SAN
 * matcher: the chain is checked against the bundle and the peer must be exactly `peerId`
 * (CertificateValidationContext.match_typed_subject_alt_names; applies to the SPIFFE validator too).
 */
function commonTlsContext(options: SidecarCommon): object {
  if (options.peerId === undefined) {
    return {
      tls_certificate_sds_secret_configs: [{ name: 'default', sds_config: sdsConfig(options.apiType) }],
      validation_context_sds_secret_config: { name: options.validation, sds_config: sdsConfig(options.apiType) },
    };
  }
  return {
    tls_certificate_sds_secret_configs: [{ name: 'default', sds_config: sdsConfig(options.apiType) }],
    combined_validation_context: {
      default_validation_context: { match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: options.peerId } }] },
      validation_context_sds_secret_config: { name: options.validation, sds_config: sdsConfig(options.apiType) },
    },
  };
}

/** gRPC (SDS) needs HTTP/2 to the unix socket. */
function sdsCluster(socketPath: string): object {
  return {
    name: SDS_CLUSTER,
    type: 'STATIC',
    connect_timeout: '1s',
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
    load_assignment: { cluster_name: SDS_CLUSTER, endpoints: [{ lb_endpoints: [{ endpoint: { address: { pipe: { path: socketPath } } } }] }] },
  };
}

function staticCluster(name: string, port: number, extra: object = {}): object {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '2s',
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] },
    ...extra,
  };
}

function httpListener(name: string, port: number, cluster: string, hcmExtra: object, listenerExtra: object = {}): object {
  return {
    name,
    address: { socket_address: { address: '127.0.0.1', port_value: port } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              stat_prefix: name,
              route_config: { name, virtual_hosts: [{ name, domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] }] },
              http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
              ...hcmExtra,
            },
          },
        ],
        ...listenerExtra,
      },
    ],
  };
}

function bootstrap(options: SidecarCommon, listeners: object[], clusters: object[]): object {
  return {
    node: { id: options.nodeId, cluster: options.nodeId },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: options.adminPort } } },
    static_resources: { listeners, clusters: [sdsCluster(options.socketPath), ...clusters] },
  };
}

/**
 * Client sidecar: plain HTTP in on `listenPort`, out over mTLS to the server sidecar. One request
 * per upstream connection (max_requests_per_connection: 1), so every request is a new handshake
 * made with the certificates Envoy holds at that moment: a rotation Envoy applied badly fails
 * requests instead of hiding behind a pooled connection. No retries: a failure stays visible.
 */
export function clientSidecar(options: SidecarCommon & { readonly listenPort: number; readonly serverPort: number; readonly forbiddenSecret?: string }): object {
  const upstream = staticCluster('server_mtls', options.serverPort, {
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        common_http_protocol_options: { max_requests_per_connection: 1 },
        explicit_http_config: { http_protocol_options: {} },
      },
    },
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', common_tls_context: commonTlsContext(options) },
    },
  });
  const forbidden = options.forbiddenSecret === undefined ? [] : [forbiddenSecretCluster(options.forbiddenSecret, options.apiType)];
  return bootstrap(options, [httpListener('egress', options.listenPort, 'server_mtls', {})], [upstream, ...forbidden]);
}

/**
 * A cluster whose client certificate is a secret this Envoy may not hold (never used for
 * traffic): it shows how a refused name reaches a real Envoy.
 */
function forbiddenSecretCluster(secret: string, apiType: SdsApiType): object {
  return staticCluster('forbidden_secret', 9, {
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        common_tls_context: { tls_certificate_sds_secret_configs: [{ name: secret, sds_config: sdsConfig(apiType) }] },
      },
    },
  });
}

/**
 * Server sidecar: mTLS in on `listenPort` (client certificate required), plain HTTP to the
 * backend. The caller's URI SAN goes to the backend in x-forwarded-client-cert: SANITIZE_SET
 * drops whatever the client sent and sets it from the verified connection
 * (HttpConnectionManager.forward_client_cert_details / set_current_client_cert_details).
 */
export function serverSidecar(options: SidecarCommon & { readonly listenPort: number; readonly backendPort: number }): object {
  const tls = {
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
        require_client_certificate: true,
        common_tls_context: commonTlsContext(options),
      },
    },
  };
  const xfcc = { forward_client_cert_details: 'SANITIZE_SET', set_current_client_cert_details: { uri: true } };
  return bootstrap(options, [httpListener('ingress', options.listenPort, 'backend', xfcc, tls)], [staticCluster('backend', options.backendPort)]);
}
