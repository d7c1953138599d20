import path from 'node:path';

/** proto/ at the package root; this file compiles to dist/src/common/proto-files.js. */
export const PROTO_DIR = path.join(__dirname, '..', '..', '..', 'proto');

export const WORKLOAD_API_PROTO = 'workload.proto';
export const SDS_PROTO = 'envoy/service/secret/v3/sds.proto';
export const SECRET_PROTO = 'envoy/extensions/transport_sockets/tls/v3/secret.proto';
