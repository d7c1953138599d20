import type { ProtoStruct } from './protobuf-struct';

/** The JWT half of the Workload API, as @grpc/proto-loader presents it (field names as in proto/). */
export interface JwtSvidRequest {
  audience: string[];
  spiffe_id: string;
}

export interface JwtSvidMessage {
  spiffe_id: string;
  svid: string;
  hint: string;
}

export interface JwtSvidResponse {
  svids: JwtSvidMessage[];
}

export interface JwtBundlesResponse {
  /** Keyed by trust domain ID (`spiffe://example.org`); each value a JWKS document, UTF-8 JSON. */
  bundles: Record<string, Buffer>;
}

export interface ValidateJwtSvidRequest {
  audience: string;
  svid: string;
}

export interface ValidateJwtSvidResponse {
  spiffe_id: string;
  claims: ProtoStruct;
}
