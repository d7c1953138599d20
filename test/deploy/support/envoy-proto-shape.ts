import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';

/**
 * Checks a YAML/JSON Envoy configuration against Envoy's official protos (shipped by
 * @grpc/grpc-js-xds), the way Envoy's own loader would reject it: unknown or deprecated fields,
 * wrong value kinds, unknown enum names, two members of one oneof, missing required fields
 * (protoc-gen-validate's `message.required`, required oneofs, `string.min_len`), and every
 * `typed_config` resolved through its "@type". No Envoy binary runs here; this is the next best.
 */
const XDS_DEPS = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const INCLUDE_DIRS = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((dir) => path.join(XDS_DEPS, dir));
const PROTOBUFJS_DIR = path.dirname(require.resolve('protobufjs/package.json'));
const TYPE_URL_PREFIX = 'type.googleapis.com/';

const WRAPPERS: Readonly<Record<string, string>> = {
  '.google.protobuf.BoolValue': 'bool',
  '.google.protobuf.StringValue': 'string',
  '.google.protobuf.BytesValue': 'bytes',
  '.google.protobuf.DoubleValue': 'double',
  '.google.protobuf.FloatValue': 'float',
  '.google.protobuf.Int32Value': 'int32',
  '.google.protobuf.UInt32Value': 'uint32',
  '.google.protobuf.Int64Value': 'int64',
  '.google.protobuf.UInt64Value': 'uint64',
};

type Options = Readonly<Record<string, unknown>> | undefined;

export class EnvoyProtoShape {
  private readonly root = new protobuf.Root();
  private readonly loadedDirs = new Set<string>();

  constructor() {
    this.root.resolvePath = (_origin, target) => {
      // protobufjs carries any/duration/struct/wrappers itself; descriptor.proto ships beside it.
      if (target.startsWith('google/protobuf/')) return target in protobuf.common ? target : path.join(PROTOBUFJS_DIR, target);
      return INCLUDE_DIRS.map((dir) => path.join(dir, target)).find((candidate) => existsSync(candidate)) ?? target;
    };
  }

  /** Every way `value` differs from message `typeName`; empty when Envoy's protos accept it. */
  problems(value: unknown, typeName: string): string[] {
    const problems: string[] = [];
    const type = this.messageType(typeName);
    if (!type) return [`no proto message ${typeName}`];
    this.checkMessage(value, type, typeName.split('.').pop() ?? typeName, problems);
    return problems;
  }

  /** Loads the package directory that declares `typeName` (Envoy keeps one package per directory). */
  private messageType(typeName: string): protobuf.Type | undefined {
    const found = this.root.lookup(typeName);
    if (found instanceof protobuf.Type) return found;
    const segments = typeName.split('.');
    const firstTypeSegment = segments.findIndex((segment) => /^[A-Z]/.test(segment));
    const packageDir = segments.slice(0, firstTypeSegment).join('/');
    if (this.loadedDirs.has(packageDir)) return undefined;
    this.loadedDirs.add(packageDir);
    const absolute = INCLUDE_DIRS.map((dir) => path.join(dir, packageDir)).find((candidate) => existsSync(candidate));
    if (!absolute) return undefined;
    const files = readdirSync(absolute).filter((file) => file.endsWith('.proto')).map((file) => `${packageDir}/${file}`);
    this.root.loadSync(files, { keepCase: true });
    this.root.resolveAll();
    const loaded = this.root.lookup(typeName);
    return loaded instanceof protobuf.Type ? loaded : undefined;
  }

  private checkMessage(value: unknown, type: protobuf.Type, where: string, problems: string[]): void {
    if (!isMapping(value)) {
      problems.push(`${where}: must be a mapping (${type.fullName.slice(1)})`);
      return;
    }
    for (const [key, child] of Object.entries(value)) {
      const field = type.fields[key];
      if (!field) {
        problems.push(`${where}.${key}: no such field in ${type.fullName.slice(1)}`);
        continue;
      }
      if ((field.options as Options)?.deprecated === true) problems.push(`${where}.${key}: deprecated in ${type.fullName.slice(1)}`);
      this.checkField(child, field, `${where}.${key}`, problems);
    }
    for (const oneof of type.oneofsArray) {
      const present = oneof.fieldsArray.filter((field) => field.name in value).map((field) => field.name);
      if (present.length > 1) problems.push(`${where}: ${present.join(' and ')} are one of "${oneof.name}"; set one`);
      if (present.length === 0 && (oneof.options as Options)?.['(validate.required)'] === true) {
        problems.push(`${where}: one of ${oneof.fieldsArray.map((field) => field.name).join(', ')} is required`);
      }
    }
    for (const field of type.fieldsArray) {
      // A oneof member's rule applies only when that member is the one chosen.
      if (!field.partOf && !(field.name in value) && (field.options as Options)?.['(validate.rules).message.required'] === true) {
        problems.push(`${where}.${field.name}: is required by ${type.fullName.slice(1)}`);
      }
    }
  }

  private checkField(value: unknown, field: protobuf.Field, where: string, problems: string[]): void {
    field.resolve();
    if (field.map) {
      if (!isMapping(value)) problems.push(`${where}: must be a mapping`);
      else for (const [key, child] of Object.entries(value)) this.checkValue(child, field, `${where}.${key}`, problems);
      return;
    }
    if (field.repeated) {
      if (!Array.isArray(value)) problems.push(`${where}: must be a list`);
      else value.forEach((child, index) => this.checkValue(child, field, `${where}[${index}]`, problems));
      return;
    }
    this.checkValue(value, field, where, problems);
  }

  private checkValue(value: unknown, field: protobuf.Field, where: string, problems: string[]): void {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Enum) {
      if (typeof value !== 'string' || !(value in resolved.values)) problems.push(`${where}: ${JSON.stringify(value)} is not a value of ${resolved.fullName.slice(1)}`);
      else if (resolved.valuesOptions?.[value]?.deprecated === true) problems.push(`${where}: ${value} is deprecated`);
      return;
    }
    if (resolved instanceof protobuf.Type) {
      this.checkMessageValue(value, resolved, where, problems);
      return;
    }
    const problem = scalarProblem(value, field.type);
    if (problem) problems.push(`${where}: ${problem}`);
    const minLength = (field.options as Options)?.['(validate.rules).string.min_len'];
    if (typeof value === 'string' && typeof minLength === 'number' && value.length < minLength) problems.push(`${where}: must not be shorter than ${minLength}`);
  }

  /** Messages with a special JSON form (proto3 JSON mapping), then ordinary ones. */
  private checkMessageValue(value: unknown, type: protobuf.Type, where: string, problems: string[]): void {
    const name = type.fullName;
    const wrapped = WRAPPERS[name];
    if (wrapped) {
      const problem = scalarProblem(value, wrapped);
      if (problem) problems.push(`${where}: ${problem}`);
    } else if (name === '.google.protobuf.Duration') {
      if (typeof value !== 'string' || !/^\d+(\.\d{1,9})?s$/.test(value)) problems.push(`${where}: a duration is written like "1s" or "0.25s", got ${JSON.stringify(value)}`);
    } else if (name === '.google.protobuf.Struct') {
      if (!isMapping(value)) problems.push(`${where}: must be a mapping`);
    } else if (name === '.google.protobuf.Value' || name === '.google.protobuf.ListValue' || name === '.google.protobuf.Timestamp') {
      // Free-form JSON, or an RFC 3339 string: nothing Envoy-specific to check.
    } else if (name === '.google.protobuf.Any') {
      this.checkAny(value, where, problems);
    } else {
      this.checkMessage(value, type, where, problems);
    }
  }

  private checkAny(value: unknown, where: string, problems: string[]): void {
    if (!isMapping(value)) {
      problems.push(`${where}: must be a mapping with "@type"`);
      return;
    }
    const typeUrl = value['@type'];
    if (typeof typeUrl !== 'string' || !typeUrl.startsWith(TYPE_URL_PREFIX)) {
      problems.push(`${where}."@type": must be "${TYPE_URL_PREFIX}<message>", got ${JSON.stringify(typeUrl)}`);
      return;
    }
    const type = this.messageType(typeUrl.slice(TYPE_URL_PREFIX.length));
    if (!type) {
      problems.push(`${where}."@type": no proto message ${typeUrl.slice(TYPE_URL_PREFIX.length)}`);
      return;
    }
    const { '@type': _typeUrl, ...fields } = value;
    this.checkMessage(fields, type, `${where}<${type.name}>`, problems);
  }
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function scalarProblem(value: unknown, protoType: string): string | undefined {
  switch (protoType) {
    case 'string':
    case 'bytes':
      return typeof value === 'string' ? undefined : `must be a string, got ${JSON.stringify(value)}`;
    case 'bool':
      return typeof value === 'boolean' ? undefined : `must be true or false, got ${JSON.stringify(value)}`;
    case 'double':
    case 'float':
      return typeof value === 'number' ? undefined : `must be a number, got ${JSON.stringify(value)}`;
    default: {
      // Integers; 64-bit ones may also be written as strings in proto3 JSON.
      const unsigned = protoType.startsWith('uint') || protoType === 'fixed32' || protoType === 'fixed64';
      const text = typeof value === 'string' && /^-?\d+$/.test(value) && /64$/.test(protoType) ? Number(value) : value;
      if (typeof text !== 'number' || !Number.isInteger(text)) return `must be an integer, got ${JSON.stringify(value)}`;
      return unsigned && text < 0 ? `must not be negative, got ${text}` : undefined;
    }
  }
}
