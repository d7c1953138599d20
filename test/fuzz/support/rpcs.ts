import { doubleField, messageField, stringField, varintField } from './protobuf';
import type { Prng } from './prng';

/** The SPIFFE ID the fuzz agent's entry gives the fuzzing process. */
export const FUZZ_SPIFFE_ID = 'spiffe://example.org/fuzz';
const SECRET_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';
const SDS = '/envoy.service.secret.v3.SecretDiscoveryService';

export interface Rpc {
  readonly name: string;
  readonly path: string;
  /** The Workload API requires the `workload.spiffe.io: true` header (SPIFFE Workload API §5.2). */
  readonly workloadApi: boolean;
  /** Bidirectional streams may carry several request messages. */
  readonly streaming: boolean;
  /** The fields of one well-formed (or nearly) request message. */
  fields(rng: Prng): Buffer[];
}

/** All 8 RPCs the agent serves on its socket. */
export const RPCS: readonly Rpc[] = [
  { name: 'FetchX509SVID', path: '/SpiffeWorkloadAPI/FetchX509SVID', workloadApi: true, streaming: false, fields: () => [] },
  { name: 'FetchX509Bundles', path: '/SpiffeWorkloadAPI/FetchX509Bundles', workloadApi: true, streaming: false, fields: () => [] },
  { name: 'FetchJWTSVID', path: '/SpiffeWorkloadAPI/FetchJWTSVID', workloadApi: true, streaming: false, fields: jwtSvidRequest },
  { name: 'FetchJWTBundles', path: '/SpiffeWorkloadAPI/FetchJWTBundles', workloadApi: true, streaming: false, fields: () => [] },
  { name: 'ValidateJWTSVID', path: '/SpiffeWorkloadAPI/ValidateJWTSVID', workloadApi: true, streaming: false, fields: validateRequest },
  { name: 'StreamSecrets', path: `${SDS}/StreamSecrets`, workloadApi: false, streaming: true, fields: discoveryRequest },
  { name: 'DeltaSecrets', path: `${SDS}/DeltaSecrets`, workloadApi: false, streaming: true, fields: deltaRequest },
  { name: 'FetchSecrets', path: `${SDS}/FetchSecrets`, workloadApi: false, streaming: false, fields: discoveryRequest },
];

/** Strings that mean something to the agent, and strings that should not. */
export function fuzzString(rng: Prng): string | Buffer {
  switch (rng.int(12)) {
    case 0:
      return '';
    case 1:
      return 'default';
    case 2:
      return 'ROOTCA';
    case 3:
      return FUZZ_SPIFFE_ID;
    case 4:
      return rng.pick(['spiffe://example.org', 'spiffe://other.org/x', 'spiffe://example.org/other', 'spiffe://EXAMPLE.org/fuzz/../x', 'spiffe://example.org/%00']);
    case 5: // invalid UTF-8
      return Buffer.concat([Buffer.from('spiffe://'), rng.pick([Buffer.from([0xc3, 0x28]), Buffer.from([0xff, 0xfe]), Buffer.from([0xed, 0xa0, 0x80])])]);
    case 6: // around the 2048-byte name cap
      return 'n'.repeat(rng.pick([2047, 2048, 2049, 4096, 12_000]));
    case 7:
      return rng.bytes(rng.int(40)).toString('latin1');
    case 8:
      return `flood-${rng.int(1_000_000)}`;
    case 9:
      return SECRET_TYPE_URL;
    case 10:
      return '\u0000\u202e\ud800';
    default:
      return `spiffe://example.org/${rng.bytes(6).toString('hex')}`;
  }
}

/** How many times a repeated field repeats: usually a few, sometimes just past a cap. */
function repeatCount(rng: Prng): number {
  if (rng.chance(0.85)) return rng.int(4);
  return rng.pick([64, 65, 1024, 1025, 1500]);
}

function repeated(rng: Prng, field: number): Buffer[] {
  const count = repeatCount(rng);
  // Long lists use short names so a case stays a few tens of KB.
  return Array.from({ length: count }, () => stringField(field, count > 8 ? `n-${rng.int(100_000)}` : fuzzString(rng)));
}

function jwtSvidRequest(rng: Prng): Buffer[] {
  const fields = repeated(rng, 1);
  if (rng.chance(0.5)) fields.push(stringField(2, rng.chance(0.5) ? FUZZ_SPIFFE_ID : fuzzString(rng)));
  return fields;
}

function fakeJwt(rng: Prng): string | Buffer {
  const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  switch (rng.int(5)) {
    case 0:
      return `${b64({ alg: 'none' })}.${b64({ sub: FUZZ_SPIFFE_ID, aud: ['a'], exp: 4_000_000_000 })}.`;
    case 1:
      return `${b64({ alg: rng.pick(['ES256', 'RS256', 'HS256', 'PS512']), kid: rng.bytes(4).toString('hex') })}.${b64({ sub: FUZZ_SPIFFE_ID, aud: 'a' })}.${rng.bytes(64).toString('base64url')}`;
    case 2:
      return `${'e'.repeat(rng.int(9000))}.x.y`;
    case 3:
      return rng.bytes(rng.int(64)).toString('base64url');
    default:
      return fuzzString(rng);
  }
}

function validateRequest(rng: Prng): Buffer[] {
  const fields: Buffer[] = [];
  if (rng.chance(0.8)) fields.push(stringField(1, fuzzString(rng)));
  if (rng.chance(0.8)) fields.push(stringField(2, fakeJwt(rng)));
  return fields;
}

/** google.protobuf.Struct, nested `depth` levels (Struct → Value.struct_value → Struct ...). */
function struct(rng: Prng, depth: number): Buffer[] {
  let inner: Buffer[] = [];
  for (let level = 0; level < depth; level++) {
    const value = level === 0 ? [rng.pick([varintField(1, 0), doubleField(2, rng.next()), stringField(3, fuzzString(rng)), varintField(4, 1)])] : [messageField(rng.chance(0.5) ? 5 : 6, inner)];
    // A map<string, Value> entry: key = 1, value = 2; a ListValue holds values = 1.
    inner = [messageField(1, [stringField(1, `k${level}`), messageField(2, value)])];
  }
  return inner;
}

function node(rng: Prng): Buffer[] {
  const fields = [stringField(1, rng.chance(0.7) ? 'sidecar~10.0.0.1~fuzz~default' : fuzzString(rng)), stringField(2, 'fuzz')];
  if (rng.chance(0.5)) fields.push(stringField(6, rng.pick(['envoy', 'grpc-go', ''])));
  if (rng.chance(0.3)) fields.push(stringField(7, rng.pick(['1.31.0', '1.9.0', 'x'])));
  // user_agent_build_version: BuildVersion { version: SemanticVersion { major, minor, patch } }
  if (rng.chance(0.2)) fields.push(messageField(8, [messageField(1, [varintField(1, rng.int(3)), varintField(2, rng.int(40)), varintField(3, rng.pick([0, 1, 2 ** 32 + 1, -1]))])]));
  if (rng.chance(0.15)) fields.push(messageField(3, struct(rng, rng.chance(0.8) ? rng.between(1, 8) : rng.pick([64, 500, 3000]))));
  return fields;
}

/** google.rpc.Status: a NACK's error_detail. */
function status(rng: Prng): Buffer[] {
  return [varintField(1, rng.pick([0, 3, 13, -1, 2 ** 40])), stringField(2, fuzzString(rng)), messageField(3, [stringField(1, fuzzString(rng)), stringField(2, rng.bytes(rng.int(16)))])];
}

function discoveryRequest(rng: Prng): Buffer[] {
  const fields: Buffer[] = [];
  if (rng.chance(0.4)) fields.push(stringField(1, rng.pick(['', '1', 'v9', rng.bytes(4).toString('hex')])));
  if (rng.chance(0.6)) fields.push(messageField(2, node(rng)));
  fields.push(...(rng.chance(0.6) ? [stringField(3, rng.pick(['default', 'ROOTCA', FUZZ_SPIFFE_ID]))] : repeated(rng, 3)));
  if (rng.chance(0.85)) fields.push(stringField(4, rng.chance(0.85) ? SECRET_TYPE_URL : fuzzString(rng)));
  if (rng.chance(0.3)) fields.push(stringField(5, rng.pick(['', '1', '0', rng.bytes(8).toString('hex')])));
  if (rng.chance(0.15)) fields.push(messageField(6, status(rng)));
  return fields;
}

function deltaRequest(rng: Prng): Buffer[] {
  const fields: Buffer[] = [];
  if (rng.chance(0.6)) fields.push(messageField(1, node(rng)));
  if (rng.chance(0.85)) fields.push(stringField(2, rng.chance(0.85) ? SECRET_TYPE_URL : fuzzString(rng)));
  fields.push(...(rng.chance(0.6) ? [stringField(3, rng.pick(['default', 'ROOTCA', FUZZ_SPIFFE_ID]))] : repeated(rng, 3)));
  if (rng.chance(0.3)) fields.push(...repeated(rng, 4));
  if (rng.chance(0.2)) fields.push(messageField(5, [stringField(1, fuzzString(rng)), stringField(2, rng.pick(['', '1', 'v']))]));
  if (rng.chance(0.3)) fields.push(stringField(6, rng.pick(['', '1', rng.bytes(8).toString('hex')])));
  if (rng.chance(0.15)) fields.push(messageField(7, status(rng)));
  return fields;
}
