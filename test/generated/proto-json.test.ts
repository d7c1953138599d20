import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { grpcServiceDefinition } from '../../src/common/proto-descriptors';
import { PROTO_LOADER_OPTIONS, SDS_PROTO, WORKLOAD_API_PROTO } from '../../src/common/proto-files';
import { agentProtosJsonSource, GENERATED_FILE } from './proto-json';

test('src/common/agent-protos-json.ts is what gen:proto-json makes of proto/ (after changing proto/, run `npm run gen:proto-json`)', () => {
  assert.equal(readFileSync(GENERATED_FILE, 'utf8'), agentProtosJsonSource());
});

test('the precompiled service definitions match what @grpc/proto-loader makes of the .proto files', () => {
  const loaded = grpc.loadPackageDefinition(protoLoader.loadSync([WORKLOAD_API_PROTO, SDS_PROTO], PROTO_LOADER_OPTIONS)) as unknown as {
    SpiffeWorkloadAPI: grpc.ServiceClientConstructor;
    envoy: { service: { secret: { v3: { SecretDiscoveryService: grpc.ServiceClientConstructor } } } };
  };
  const pairs = [
    [grpcServiceDefinition('SpiffeWorkloadAPI'), loaded.SpiffeWorkloadAPI.service],
    [grpcServiceDefinition('envoy.service.secret.v3.SecretDiscoveryService'), loaded.envoy.service.secret.v3.SecretDiscoveryService.service],
  ] as const;
  for (const [ours, theirs] of pairs) {
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort());
    for (const [name, method] of Object.entries(theirs)) {
      const mine = ours[name];
      assert.ok(mine);
      assert.deepEqual(
        { path: mine.path, requestStream: mine.requestStream, responseStream: mine.responseStream, originalName: mine.originalName },
        { path: method.path, requestStream: method.requestStream, responseStream: method.responseStream, originalName: method.originalName },
        name,
      );
    }
  }
});

test('precompiled serializers produce and read the same bytes and objects as proto-loader', () => {
  const loaded = grpc.loadPackageDefinition(protoLoader.loadSync([WORKLOAD_API_PROTO, SDS_PROTO], PROTO_LOADER_OPTIONS)) as unknown as {
    SpiffeWorkloadAPI: grpc.ServiceClientConstructor;
    envoy: { service: { secret: { v3: { SecretDiscoveryService: grpc.ServiceClientConstructor } } } };
  };
  const x509 = { svids: [{ spiffe_id: 'spiffe://example.org/a', x509_svid: Buffer.from([1, 2]), x509_svid_key: Buffer.from([3]), bundle: Buffer.from([4]), hint: 'h' }], crl: [], federated_bundles: { 'spiffe://other.org': Buffer.from([5]) } };
  const theirs = loaded.SpiffeWorkloadAPI.service.FetchX509SVID;
  const ours = grpcServiceDefinition('SpiffeWorkloadAPI').FetchX509SVID;
  assert.ok(ours && theirs);
  const bytes = theirs.responseSerialize(x509);
  assert.deepEqual(ours.responseSerialize(x509), bytes);
  assert.deepEqual(ours.responseDeserialize(bytes), theirs.responseDeserialize(bytes));
  const discovery = { version_info: '1', node: { id: 'n', cluster: 'c' }, resource_names: ['default'], type_url: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret', response_nonce: '', error_detail: { code: 3, message: 'x', details: [] } };
  const sdsTheirs = loaded.envoy.service.secret.v3.SecretDiscoveryService.service.StreamSecrets;
  const sdsOurs = grpcServiceDefinition('envoy.service.secret.v3.SecretDiscoveryService').StreamSecrets;
  assert.ok(sdsOurs && sdsTheirs);
  const request = sdsTheirs.requestSerialize(discovery);
  assert.deepEqual(sdsOurs.requestSerialize(discovery), request);
  assert.deepEqual(sdsOurs.requestDeserialize(request), sdsTheirs.requestDeserialize(request));
});
