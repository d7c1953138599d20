/**
 * google.protobuf.Struct as @grpc/proto-loader presents it: `{ fields: { name: Value } }`, where
 * a Value sets exactly one member of its `kind` oneof. On encode the set member is enough; on
 * decode (with `oneofs: true`) `kind` also names it. JSON numbers all become numberValue, a
 * double, as protobuf's own JSON mapping does.
 */
export type ProtoValue =
  | { nullValue: 'NULL_VALUE' | 0; kind?: 'nullValue' }
  | { numberValue: number; kind?: 'numberValue' }
  | { stringValue: string; kind?: 'stringValue' }
  | { boolValue: boolean; kind?: 'boolValue' }
  | { structValue: ProtoStruct; kind?: 'structValue' }
  | { listValue: { values: ProtoValue[] }; kind?: 'listValue' };

export interface ProtoStruct {
  fields: Record<string, ProtoValue>;
}

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
  const members = value as Record<string, unknown> & { kind?: string };
  // Without `oneofs: true` there is no `kind`; the one member present is the set one.
  const kind = members.kind ?? Object.keys(members).find((key) => key !== 'kind');
  switch (kind) {
    case 'stringValue':
    case 'numberValue':
    case 'boolValue':
      return members[kind];
    case 'structValue':
      return fromStruct(members.structValue as ProtoStruct);
    case 'listValue':
      return ((members.listValue as { values?: ProtoValue[] }).values ?? []).map(fromValue);
    default:
      return null;
  }
}
