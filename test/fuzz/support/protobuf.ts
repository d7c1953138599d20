import type { Prng } from './prng';

/**
 * A minimal protobuf wire encoder (https://protobuf.dev/programming-guides/encoding/), written
 * here rather than taken from protobufjs so the fuzzer can also write what no encoder would:
 * wrong wire types, overlong varints, lengths past the end, field number 0.
 */
export function varint(value: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return Buffer.from(out);
}

export const tag = (field: number, wire: number): Buffer => varint((BigInt(field) << 3n) | BigInt(wire));
export const bytesField = (field: number, value: Buffer): Buffer => Buffer.concat([tag(field, 2), varint(value.length), value]);
export const stringField = (field: number, value: string | Buffer): Buffer => bytesField(field, typeof value === 'string' ? Buffer.from(value) : value);
export const messageField = (field: number, fields: readonly Buffer[]): Buffer => bytesField(field, Buffer.concat(fields));
export const varintField = (field: number, value: number | bigint): Buffer => Buffer.concat([tag(field, 0), varint(value)]);
export function doubleField(field: number, value: number): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeDoubleLE(value);
  return Buffer.concat([tag(field, 1), payload]);
}

/** One field no well-formed encoder writes, or an unknown one that a decoder must skip. */
export function strangeField(rng: Prng): Buffer {
  switch (rng.int(9)) {
    case 0: // unknown field number, valid encoding: must be skipped
      return stringField(rng.between(100, 536_870_911), rng.bytes(rng.int(16)));
    case 1: // wire types 6 and 7 do not exist
      return Buffer.concat([tag(rng.between(1, 8), rng.pick([6, 7])), rng.bytes(rng.int(4))]);
    case 2: // field number 0 is invalid
      return Buffer.concat([tag(0, rng.int(6)), rng.bytes(rng.int(4))]);
    case 3: // a length past the end of the message
      return Buffer.concat([tag(rng.between(1, 8), 2), varint(rng.pick([0x7fffffff, 0xffffffff, 1_000_000, 2 ** 62])), rng.bytes(rng.int(8))]);
    case 4: // a varint of 11 continuation bytes (more than 64 bits)
      return Buffer.concat([tag(rng.between(1, 8), 0), Buffer.alloc(11, 0xff), Buffer.from([0x01])]);
    case 5: // a group start (wire type 3) never closed, or closed with the wrong number
      return Buffer.concat([tag(rng.between(1, 8), 3), rng.chance(0.5) ? tag(rng.between(1, 8), 4) : Buffer.alloc(0)]);
    case 6: // a 32-bit fixed field cut short
      return Buffer.concat([tag(rng.between(1, 8), 5), rng.bytes(rng.int(4))]);
    case 7: // random bytes
      return rng.bytes(rng.between(1, 24));
    default: // a known field number under another wire type
      return Buffer.concat([tag(rng.between(1, 8), rng.pick([0, 1, 5])), rng.bytes(8)]);
  }
}

/**
 * Mutates a message given as its encoded fields: drops, duplicates, reorders, inserts strange
 * fields, then perhaps cuts the result short. Returns the body and what was done.
 */
export function mutateFields(rng: Prng, fields: readonly Buffer[], labels: string[]): Buffer {
  const out = [...fields];
  const edits = rng.between(1, 3);
  for (let i = 0; i < edits; i++) {
    const at = rng.int(out.length + 1);
    switch (rng.int(5)) {
      case 0:
        if (out.length > 0) out.splice(rng.int(out.length), 1);
        labels.push('pb:drop');
        break;
      case 1: {
        const field = out[rng.int(out.length)];
        if (field) out.splice(at, 0, field);
        labels.push('pb:dup');
        break;
      }
      case 2:
        out.reverse();
        labels.push('pb:reorder');
        break;
      default:
        out.splice(at, 0, strangeField(rng));
        labels.push('pb:strange');
    }
  }
  const body = Buffer.concat(out);
  if (body.length > 0 && rng.chance(0.3)) {
    labels.push('pb:truncate');
    return body.subarray(0, rng.int(body.length));
  }
  return body;
}
