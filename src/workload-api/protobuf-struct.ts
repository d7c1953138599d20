import type { Struct__Output as ProtoStruct } from '../generated/google/protobuf/Struct';
import type { Value__Output as ProtoValue } from '../generated/google/protobuf/Value';

/**
 * google.protobuf.Struct as @grpc/proto-loader presents it (types generated into src/generated/):
 * `{ fields: { name: Value } }`, where a Value sets exactly one member of its `kind` oneof. On
 * encode the set member is enough; on decode (with `oneofs: true`) `kind` also names it. JSON
 * numbers all become numberValue, a double, as protobuf's own JSON mapping does.
 */

/** A JSON object (such as JWT claims) as a Struct. Values JSON cannot hold are rejected. */
export function toStruct(object: Readonly<Record<string, unknown>>): ProtoStruct {
  const fields: Record<string, ProtoValue> = {};
  for (const [name, value] of Object.entries(object)) {
    if (value !== undefined) fields[name] = toValue(value);
  }
  return { fields };
}

export function toValue(value: unknown): ProtoValue {
  if (value === null) return { nullValue: 'NULL_VALUE' };
  switch (typeof value) {
    case 'string':
      return { stringValue: value };
    case 'boolean':
      return { boolValue: value };
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`a Struct cannot hold ${value}`);
      return { numberValue: value };
    case 'object':
      return Array.isArray(value) ? { listValue: { values: value.map(toValue) } } : { structValue: toStruct(value as Record<string, unknown>) };
    default:
      throw new TypeError(`a Struct cannot hold a ${typeof value}`);
  }
}

/** A decoded Struct back to a plain JSON object (for the CLI's output). */
export function fromStruct(struct: ProtoStruct | null | undefined): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(struct?.fields ?? {})) object[name] = fromValue(value);
  return object;
}

export function fromValue(value: ProtoValue): unknown {
  // Without `oneofs: true` there is no `kind`; the one member present is the set one.
  const kind = value.kind ?? (Object.keys(value) as (keyof ProtoValue)[]).find((key) => key !== 'kind');
  switch (kind) {
    case 'stringValue':
    case 'numberValue':
    case 'boolValue':
      return value[kind];
    case 'structValue':
      return fromStruct(value.structValue);
    case 'listValue':
      return (value.listValue?.values ?? []).map(fromValue);
    default:
      return null;
  }
}
