import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_DIR, WORKLOAD_API_PROTO } from '../../src/common/proto-files';
import { fromStruct, toStruct } from '../../src/workload-api/protobuf-struct';

// Through real protobuf encoding, with the options the server and the CLI load the proto with.
const definition = protoLoader.loadSync(WORKLOAD_API_PROTO, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [PROTO_DIR] });
const responseType = definition.ValidateJWTSVIDResponse as protoLoader.MessageTypeDefinition<object, object>;

test('JWT claims survive a Struct round trip on the wire: strings, numbers, lists, nested objects, booleans, null', () => {
  const claims = { sub: 'spiffe://example.org/web', aud: ['a', 'b'], exp: 1767272700, iat: 1767272400, nested: { ok: true, none: null, ratio: 0.25, empty: {} }, list: [] };
  const bytes = responseType.serialize({ spiffe_id: claims.sub, claims: toStruct(claims) });
  const decoded = responseType.deserialize(bytes) as { spiffe_id: string; claims: { fields: Record<string, { kind: string }> } };
  assert.equal(decoded.claims.fields.aud?.kind, 'listValue');
  assert.equal(decoded.claims.fields.exp?.kind, 'numberValue');
  assert.deepEqual(fromStruct(decoded.claims as never), claims);
});

test('values JSON cannot carry are refused rather than sent wrong', () => {
  assert.throws(() => toStruct({ n: Number.NaN }), /NaN/);
  assert.throws(() => toStruct({ f: () => 1 }), /function/);
  assert.deepEqual(toStruct({ skipped: undefined }), { fields: {} });
});
