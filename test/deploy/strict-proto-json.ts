import protobuf from 'protobufjs';

/**
 * Converts Envoy's YAML/JSON form of a message (proto3 JSON mapping with snake_case names, as
 * Envoy reads its bootstrap) into what protobufjs fromObject takes, failing on anything Envoy
 * would reject at parse time: unknown fields, wrong scalar kinds, unknown enum names, two
 * members of one oneof, an Any whose @type is unknown. protobufjs's own fromObject silently
 * drops unknown fields, so it cannot be used for this check alone.
 *
 * `visit` sees every message on the way with its type name, its YAML value and its path.
 */
export type Visit = (typeName: string, value: Record<string, unknown>, path: string) => void;

export class StrictProtoJson {
  constructor(
    private readonly root: protobuf.Root,
    private readonly visit: Visit = () => undefined,
  ) {}

  /** The message `typeName` from its YAML value, encoded: every field checked on the way. */
  encode(typeName: string, value: unknown): Uint8Array {
    const type = this.root.lookupType(typeName);
    // fromObject takes enum names (verify would want numbers); every field was checked above.
    const plain = this.message(type, value, typeName) as Record<string, unknown>;
    return type.encode(type.fromObject(plain)).finish();
  }

  private message(type: protobuf.Type, value: unknown, path: string): unknown {
    const special = this.wellKnown(type, value, path);
    if (special !== undefined) return special;
    const object = asObject(value, path);
    this.visit(type.fullName.replace(/^\./, ''), object, path);
    for (const oneof of type.oneofsArray) {
      const set = oneof.fieldsArray.filter((field) => field.name in object).map((field) => field.name);
      if (set.length > 1) throw new Error(`${path}: ${set.join(' and ')} are members of oneof ${oneof.name}; at most one may be set`);
    }
    const out: Record<string, unknown> = {};
    for (const [key, fieldValue] of Object.entries(object)) {
      const field = type.fields[key];
      if (!field) throw new Error(`${path}: unknown field "${key}" in ${type.fullName.replace(/^\./, '')}`);
      out[key] = this.field(field.resolve(), fieldValue, `${path}.${key}`);
    }
    return out;
  }

  private field(field: protobuf.Field, value: unknown, path: string): unknown {
    if (field instanceof protobuf.MapField) {
      const entries = Object.entries(asObject(value, path));
      return Object.fromEntries(entries.map(([key, item]) => [key, this.single(field, item, `${path}[${JSON.stringify(key)}]`)]));
    }
    if (field.repeated) {
      if (!Array.isArray(value)) throw new Error(`${path}: a list is required`);
      return value.map((item, index) => this.single(field, item, `${path}[${index}]`));
    }
    return this.single(field, value, path);
  }

  private single(field: protobuf.Field, value: unknown, path: string): unknown {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) return this.message(resolved, value, path);
    if (resolved instanceof protobuf.Enum) {
      if (typeof value === 'string' && value in resolved.values) return value;
      if (typeof value === 'number' && value in resolved.valuesById) return value;
      throw new Error(`${path}: ${JSON.stringify(value)} is not a value of enum ${resolved.name} (${Object.keys(resolved.values).join(', ')})`);
    }
    return scalar(field.type, value, path);
  }

  /** The proto3 JSON forms that differ from the message's fields; undefined for other types. */
  private wellKnown(type: protobuf.Type, value: unknown, path: string): unknown {
    const name = type.fullName;
    if (name === '.google.protobuf.Any') {
      const { '@type': typeUrl, ...rest } = asObject(value, path);
      if (typeof typeUrl !== 'string' || !typeUrl.startsWith('type.googleapis.com/')) throw new Error(`${path}: an Any needs "@type: type.googleapis.com/<message>"`);
      const inner = this.root.lookup(typeUrl.slice('type.googleapis.com/'.length));
      if (!(inner instanceof protobuf.Type)) throw new Error(`${path}: unknown @type ${typeUrl}`);
      const plain = this.message(inner, rest, `${path}<${inner.name}>`);
      return { type_url: typeUrl, value: inner.encode(inner.fromObject(plain as Record<string, unknown>)).finish() };
    }
    if (name === '.google.protobuf.Duration') {
      const match = typeof value === 'string' ? /^(-?\d+)(?:\.(\d{1,9}))?s$/.exec(value) : null;
      if (!match) throw new Error(`${path}: a duration is a string like "1s" or "0.250s", got ${JSON.stringify(value)}`);
      return { seconds: Number(match[1]), nanos: Number((match[2] ?? '').padEnd(9, '0')) };
    }
    const wrapped = WRAPPERS[name];
    if (wrapped) return { value: scalar(wrapped, value, path) };
    if (name === '.google.protobuf.Struct') return { fields: Object.fromEntries(Object.entries(asObject(value, path)).map(([key, item]) => [key, structValue(item)])) };
    if (name === '.google.protobuf.Empty') {
      if (Object.keys(asObject(value, path)).length > 0) throw new Error(`${path}: Empty takes no fields`);
      return {};
    }
    return undefined;
  }
}

const WRAPPERS: Record<string, string> = {
  '.google.protobuf.BoolValue': 'bool',
  '.google.protobuf.StringValue': 'string',
  '.google.protobuf.UInt32Value': 'uint32',
  '.google.protobuf.Int32Value': 'int32',
  '.google.protobuf.UInt64Value': 'uint64',
  '.google.protobuf.Int64Value': 'int64',
  '.google.protobuf.DoubleValue': 'double',
  '.google.protobuf.FloatValue': 'float',
};

function asObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${path}: a mapping is required, got ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

function scalar(type: string, value: unknown, path: string): unknown {
  const fail = (): never => {
    throw new Error(`${path}: ${JSON.stringify(value)} is not a ${type}`);
  };
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : fail();
    case 'bool':
      return typeof value === 'boolean' ? value : fail();
    case 'bytes':
      return typeof value === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(value) ? value : fail();
    case 'double':
    case 'float':
      return typeof value === 'number' ? value : fail();
    case 'uint32':
    case 'fixed32':
    case 'uint64':
    case 'fixed64':
      return (typeof value === 'number' && Number.isInteger(value) && value >= 0) || (typeof value === 'string' && /^\d+$/.test(value)) ? value : fail();
    default: // int32, sint32, sfixed32, int64, sint64, sfixed64
      return (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && /^-?\d+$/.test(value)) ? value : fail();
  }
}

/** google.protobuf.Value; protobufjs bundles it with camelCase field names. */
function structValue(value: unknown): unknown {
  if (value === null) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(structValue) } };
  return { structValue: { fields: Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, item]) => [key, structValue(item)])) } };
}
