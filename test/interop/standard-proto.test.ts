import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import protobuf from 'protobufjs';
import { PROTO_DIR, WORKLOAD_API_PROTO } from '../../src/common/proto-files';
import { assertStandardProtoInstalled, STANDARD_PROTO } from './support/standard-client';

/** What decides the wire format of a field: its number, type and cardinality (name kept for readability). */
function wireShape(field: protobuf.Field): string {
  const map = field instanceof protobuf.MapField ? `map<${field.keyType},` : '';
  return `${field.name}=${field.id} ${field.repeated ? 'repeated ' : ''}${map}${field.type}${map ? '>' : ''}`;
}

function messages(root: protobuf.Root): Map<string, protobuf.Type> {
  const found = new Map<string, protobuf.Type>();
  for (const nested of root.nestedArray) if (nested instanceof protobuf.Type) found.set(nested.name, nested);
  return found;
}

const OURS = protobuf.loadSync(path.join(PROTO_DIR, WORKLOAD_API_PROTO));
assertStandardProtoInstalled();
const STANDARD = protobuf.loadSync(STANDARD_PROTO);
// The other tests' own client copy: it had the same wrong number, so it proved nothing.
const TEST_FIXTURE = protobuf.loadSync(path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'e2e', 'workload.proto'));

function assertStandardFields(root: protobuf.Root): void {
  const standard = messages(STANDARD);
  for (const [name, ours] of messages(root)) {
    const reference = standard.get(name);
    assert.ok(reference, `${name} is not a standard message`);
    assert.deepEqual(ours.fieldsArray.map(wireShape).sort(), reference.fieldsArray.map(wireShape).sort(), name);
  }
}

// issue 13 item 4: meshid declared X509BundlesResponse.bundles = 1, where the standard has
// `repeated bytes crl = 1; map<string, bytes> bundles = 2;`. This compares every message.
describe('proto/workload.proto against the standard workloadapi.proto', () => {
  test('every message meshid declares has exactly the standard fields (number, type, cardinality)', () => {
    assertStandardFields(OURS);
    assert.deepEqual(messages(OURS).get('X509BundlesResponse')?.fieldsArray.map(wireShape), ['crl=1 repeated bytes', 'bundles=2 map<string,bytes>']);
  });

  test('so does the tests\' own client copy (test/fixtures/e2e/workload.proto)', () => {
    assertStandardFields(TEST_FIXTURE);
  });

  test('the service: no package, the standard method names, types and streaming; only WIT-SVID methods are not served', () => {
    const ours = OURS.lookupService('SpiffeWorkloadAPI');
    const standard = STANDARD.lookupService('SpiffeWorkloadAPI');
    assert.equal(ours.fullName, '.SpiffeWorkloadAPI', 'method paths are /SpiffeWorkloadAPI/<Method>');
    const shape = (method: protobuf.Method): string => `${method.name}(${method.requestType}${method.requestStream ? ' stream' : ''}) → ${method.responseType}${method.responseStream ? ' stream' : ''}`;
    const standardMethods = new Map(standard.methodsArray.map((method) => [method.name, shape(method)]));
    for (const method of ours.methodsArray) assert.equal(shape(method), standardMethods.get(method.name));
    const notServed = standard.methodsArray.map((method) => method.name).filter((name) => !ours.methods[name]);
    assert.deepEqual(notServed, ['FetchWITSVID', 'FetchWITBundles']);
  });
});
