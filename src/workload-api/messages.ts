/** Workload API messages as @grpc/proto-loader presents them (keepCase: field names as in proto/). */
export interface X509SvidMessage {
  spiffe_id: string;
  x509_svid: Buffer;
  x509_svid_key: Buffer;
  bundle: Buffer;
  hint: string;
}

export interface X509SvidResponse {
  svids: X509SvidMessage[];
  crl: Buffer[];
  federated_bundles: Record<string, Buffer>;
}

/** Standard numbering: crl = 1, bundles = 2 (spiffe/spiffe standards/workloadapi.proto). */
export interface X509BundlesResponse {
  crl: Buffer[];
  bundles: Record<string, Buffer>;
}
