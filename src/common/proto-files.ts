import path from 'node:path';
import type { Options } from '@grpc/proto-loader';

/** proto/ at the package root; this file compiles to dist/src/common/proto-files.js. */
export const PROTO_DIR = path.join(__dirname, '..', '..', '..', 'proto');

export const WORKLOAD_API_PROTO = 'workload.proto';
export const SDS_PROTO = 'envoy/service/secret/v3/sds.proto';
export const SECRET_PROTO = 'envoy/extensions/transport_sockets/tls/v3/secret.proto';

/**
 * How the agent's servers and its SPIRE client load protos. keepCase keeps proto field names
 * (spiffe_id, inline_bytes) so handlers use the spec's names. The message types in src/generated/
 * are generated with the same options (`npm run gen:proto`; test/generated checks the flags), so
 * they describe exactly the objects grpc-js hands over.
 */
export const PROTO_LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [PROTO_DIR] } satisfies Options;
