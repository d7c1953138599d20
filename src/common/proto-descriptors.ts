import type * as grpc from '@grpc/grpc-js';
import * as protobuf from 'protobufjs/light';
import { AGENT_PROTOS_JSON } from './agent-protos-json';
import { PROTO_LOADER_OPTIONS } from './proto-files';

/**
 * The agent's own protos (Workload API, SDS, Secret, the SPIFFE validator config), from a JSON
 * descriptor precompiled from proto/ (`npm run gen:proto-json`, kept fresh by
 * test/generated/proto-json.test.ts) instead of parsing .proto files at every start. Built once,
 * on first use.
 */
let root: protobuf.Root | undefined;

export function agentProtoRoot(): protobuf.Root {
  if (!root) {
    root = protobuf.Root.fromJSON(JSON.parse(AGENT_PROTOS_JSON) as protobuf.INamespace);
    root.resolveAll();
  }
  return root;
}

/** The conversion options of PROTO_LOADER_OPTIONS (the shape src/generated/ types describe). */
const { includeDirs: _includeDirs, keepCase: _keepCase, ...CONVERSION } = PROTO_LOADER_OPTIONS;

/**
 * A grpc-js service definition for `serviceName` (fully qualified), with the serializers
 * @grpc/proto-loader would make under PROTO_LOADER_OPTIONS: fromObject + encode out,
 * decode + toObject(options) in. Only what grpc-js reads is built (no reflection descriptors).
 */
export function grpcServiceDefinition(serviceName: string): grpc.ServiceDefinition {
  const service = agentProtoRoot().lookupService(serviceName);
  const definition: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const method of service.methodsArray) {
    const request = method.resolvedRequestType;
    const response = method.resolvedResponseType;
    if (!request || !response) throw new Error(`${serviceName}.${method.name}: unresolved message types`);
    definition[method.name] = {
      path: `/${serviceName}/${method.name}`,
      requestStream: Boolean(method.requestStream),
      responseStream: Boolean(method.responseStream),
      requestSerialize: serializer(request),
      requestDeserialize: deserializer(request),
      responseSerialize: serializer(response),
      responseDeserialize: deserializer(response),
      originalName: lowerCamel(method.name),
    };
  }
  return definition;
}

function serializer(type: protobuf.Type): (value: object) => Buffer {
  return (value) => {
    if (Array.isArray(value)) throw new Error(`Failed to serialize message: expected object with ${type.name} structure, got array instead`);
    return Buffer.from(type.encode(type.fromObject(value)).finish());
  };
}

function deserializer(type: protobuf.Type): (bytes: Buffer) => object {
  return (bytes) => type.toObject(type.decode(bytes), CONVERSION);
}

/** FetchX509SVID → fetchX509Svid, as lodash.camelcase (proto-loader's originalName) makes it. */
function lowerCamel(name: string): string {
  const words = name.match(/[A-Z]{2,}(?=[A-Z][a-z]+[0-9]*|\b)|[A-Z]?[a-z]+[0-9]*|[A-Z]|[0-9]+/g) ?? [name];
  return words.map((word, index) => (index === 0 ? word.toLowerCase() : word.charAt(0).toUpperCase() + word.slice(1).toLowerCase())).join('');
}
