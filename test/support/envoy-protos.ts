import { existsSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

/** Envoy's official API protos, as shipped by @grpc/grpc-js-xds (a maintained npm package). */
const XDS_DEPS = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const INCLUDE_DIRS = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((dir) => path.join(XDS_DEPS, dir));

export const SECRET_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

export interface DiscoveryResponse {
  version_info: string;
  resources: { type_url: string; value: Buffer }[];
  type_url: string;
  nonce: string;
}

export interface DecodedSecret {
  name: string;
  tls_certificate?: { certificate_chain?: { inline_bytes?: Buffer }; private_key?: { inline_bytes?: Buffer } };
  validation_context?: { trusted_ca?: { inline_bytes?: Buffer } };
}

export type SdsClient = grpc.Client & {
  StreamSecrets(): grpc.ClientDuplexStream<object, DiscoveryResponse>;
  DeltaSecrets(): grpc.ClientDuplexStream<object, unknown>;
  FetchSecrets(request: object, callback: (error: grpc.ServiceError | null, response?: DiscoveryResponse) => void): void;
};

export function sdsClient(socketPath: string): SdsClient {
  const definition = protoLoader.loadSync('envoy/service/secret/v3/sds.proto', { keepCase: true, defaults: true, includeDirs: INCLUDE_DIRS });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { envoy: { service: { secret: { v3: { SecretDiscoveryService: grpc.ServiceClientConstructor } } } } };
  return new loaded.envoy.service.secret.v3.SecretDiscoveryService(`unix:${socketPath}`, grpc.credentials.createInsecure()) as unknown as SdsClient;
}

let secretType: protobuf.Type | undefined;

/** Decodes an Any resource with Envoy's own Secret message, strictly by its type URL. */
export function decodeSecret(resource: { type_url: string; value: Buffer }): DecodedSecret {
  if (resource.type_url !== SECRET_TYPE_URL) throw new Error(`unexpected type_url ${resource.type_url}`);
  if (!secretType) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => {
      for (const dir of INCLUDE_DIRS) {
        const candidate = path.join(dir, target);
        if (existsSync(candidate)) return candidate;
      }
      return target;
    };
    root.loadSync('envoy/extensions/transport_sockets/tls/v3/secret.proto', { keepCase: true });
    secretType = root.lookupType('envoy.extensions.transport_sockets.tls.v3.Secret');
  }
  return secretType.toObject(secretType.decode(resource.value), { defaults: false }) as DecodedSecret;
}
