/** xDS messages as @grpc/proto-loader presents them (keepCase: field names as in proto/). */
export const SECRET_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

export interface AnyMessage {
  type_url: string;
  value: Buffer;
}

/**
 * google.protobuf.Value as proto-loader decodes it: protobufjs bundles the well-known types with
 * camelCase field names (keepCase does not apply to them), and `kind` names the field that is set.
 */
export interface StructValue {
  kind?: string;
  boolValue?: boolean;
  stringValue?: string;
}

export interface EnvoyNode {
  id?: string;
  cluster?: string;
  metadata?: { fields?: Record<string, StructValue> } | null;
  user_agent_name?: string;
  user_agent_build_version?: { version?: { major_number?: number; minor_number?: number; patch?: number } | null } | null;
}

export interface DiscoveryRequest {
  version_info: string;
  node?: EnvoyNode | null;
  resource_names: string[];
  type_url: string;
  response_nonce: string;
  error_detail?: { code: number; message: string } | null;
}

export interface DiscoveryResponse {
  version_info: string;
  resources: AnyMessage[];
  type_url: string;
  nonce: string;
}

export interface DeltaDiscoveryRequest {
  node?: EnvoyNode | null;
  type_url: string;
  resource_names_subscribe: string[];
  resource_names_unsubscribe: string[];
  initial_resource_versions: Record<string, string>;
  response_nonce: string;
  error_detail?: { code: number; message: string } | null;
}

export interface DeltaResource {
  name: string;
  version: string;
  resource: AnyMessage;
}

export interface DeltaDiscoveryResponse {
  system_version_info: string;
  resources: DeltaResource[];
  type_url: string;
  removed_resources: string[];
  nonce: string;
}
