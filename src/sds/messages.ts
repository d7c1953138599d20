/** xDS messages as @grpc/proto-loader presents them (keepCase: field names as in proto/). */
export const SECRET_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

export interface AnyMessage {
  type_url: string;
  value: Buffer;
}

export interface DiscoveryRequest {
  version_info: string;
  node?: { id?: string; cluster?: string } | null;
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
