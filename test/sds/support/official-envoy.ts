import { existsSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';

/**
 * Envoy's official API protos as shipped by @grpc/grpc-js-xds, loaded with protobufjs. Tests
 * decode what meshid sends with these types (never with meshid's own proto subset), so a wrong
 * field number or type URL in proto/ fails here.
 */
const XDS_DEPS = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
export const OFFICIAL_INCLUDE_DIRS = [
  ...['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((dir) => path.join(XDS_DEPS, dir)),
  // google/protobuf/descriptor.proto, imported by the validate and udpa annotations.
  path.dirname(require.resolve('protobufjs/package.json')),
];

/** Every file whose types the tests resolve, directly or inside an Any. */
const OFFICIAL_FILES = [
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls_spiffe_validator_config.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
];

let root: protobuf.Root | undefined;

export function officialRoot(): protobuf.Root {
  if (!root) {
    const loaded = new protobuf.Root();
    loaded.resolvePath = (_origin, target) => {
      for (const dir of OFFICIAL_INCLUDE_DIRS) {
        const candidate = path.join(dir, target);
        if (existsSync(candidate)) return candidate;
      }
      return target;
    };
    loaded.loadSync(OFFICIAL_FILES, { keepCase: true });
    loaded.resolveAll();
    root = loaded;
  }
  return root;
}

/** The official message type an Any's type URL names (fails the test for an unknown type). */
export function typeForUrl(typeUrl: string): protobuf.Type {
  const prefix = 'type.googleapis.com/';
  if (!typeUrl.startsWith(prefix)) throw new Error(`type URL without the ${prefix} prefix: ${typeUrl}`);
  return officialRoot().lookupType(typeUrl.slice(prefix.length));
}

export const SECRET_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';
export const SPIFFE_VALIDATOR_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig';

export interface OfficialDataSource {
  inline_bytes?: Buffer;
}
export interface OfficialSpiffeValidatorConfig {
  trust_domains?: { name?: string; trust_bundle?: OfficialDataSource }[];
}
export interface OfficialSecret {
  name: string;
  tls_certificate?: { certificate_chain?: OfficialDataSource; private_key?: OfficialDataSource };
  validation_context?: {
    trusted_ca?: OfficialDataSource;
    custom_validator_config?: { name?: string; typed_config?: { type_url: string; value: Buffer } };
  };
}

/** Decodes a Secret Any with Envoy's own Secret type, strictly by its type URL. */
export function decodeOfficialSecret(resource: { type_url: string; value: Buffer }): OfficialSecret {
  if (resource.type_url !== SECRET_TYPE_URL) throw new Error(`unexpected type_url ${resource.type_url}`);
  const type = typeForUrl(resource.type_url);
  return type.toObject(type.decode(resource.value), { defaults: false }) as OfficialSecret;
}

/** Decodes the validator's typed_config with the official type its Any names. */
export function decodeSpiffeValidator(secret: OfficialSecret): OfficialSpiffeValidatorConfig {
  const typed = secret.validation_context?.custom_validator_config?.typed_config;
  if (!typed) throw new Error(`secret ${secret.name} has no custom_validator_config.typed_config`);
  const type = typeForUrl(typed.type_url);
  return type.toObject(type.decode(typed.value), { defaults: false }) as OfficialSpiffeValidatorConfig;
}
