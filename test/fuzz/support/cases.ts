import { gzipSync } from 'node:zlib';
import { CLIENT_PREFACE, frame } from '../../support/http2-frames';
import { Prng } from './prng';
import { mutateFields } from './protobuf';
import { RPCS, fuzzString, type Rpc } from './rpcs';

/**
 * One fuzz case: the bytes one client connection writes, and whether it then holds the
 * connection open (without sending FIN) instead of closing it at once. A pure function of
 * (seed, index); `labels` says what was mutated, for the failure report.
 */
export interface FuzzCase {
  readonly index: number;
  readonly bytes: Buffer;
  readonly hold: boolean;
  readonly labels: readonly string[];
}

const enum Type {
  DATA = 0x0,
  HEADERS = 0x1,
  PRIORITY = 0x2,
  RST_STREAM = 0x3,
  SETTINGS = 0x4,
  PUSH_PROMISE = 0x5,
  PING = 0x6,
  GOAWAY = 0x7,
  WINDOW_UPDATE = 0x8,
  CONTINUATION = 0x9,
}
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const MAX_FRAME = 16_384;

export function makeCase(seed: number, index: number): FuzzCase {
  const rng = Prng.forCase(seed, index);
  const labels: string[] = [];
  const frames: Buffer[] = [settingsFrame(rng, labels)];
  const streams = rng.chance(0.15) ? rng.between(2, 4) : 1;
  for (let s = 0; s < streams; s++) {
    const rpc = rng.pick(RPCS);
    labels.push(rpc.name);
    frames.push(...streamFrames(rng, 1 + 2 * s, rpc, labels));
  }
  if (rng.chance(0.2)) {
    const extras = rng.between(1, 3);
    for (let i = 0; i < extras; i++) frames.splice(rng.between(1, frames.length), 0, controlFrame(rng, labels));
  }
  if (rng.chance(0.12)) mutateFrame(rng, frames, labels);
  let preface: Buffer<ArrayBufferLike> = CLIENT_PREFACE;
  if (rng.chance(0.03)) {
    labels.push('preface');
    preface = rng.chance(0.5) ? CLIENT_PREFACE.subarray(0, rng.int(CLIENT_PREFACE.length)) : Buffer.concat([rng.bytes(rng.int(8)), CLIENT_PREFACE.subarray(rng.int(CLIENT_PREFACE.length))]);
  }
  let bytes: Buffer<ArrayBufferLike> = Buffer.concat([preface, ...frames]);
  if (rng.chance(0.12)) bytes = mutateBytes(rng, bytes, rng.chance(0.9) ? preface.length : 0, labels);
  const hold = rng.chance(0.25);
  return { index, bytes, hold, labels };
}

function settingsFrame(rng: Prng, labels: string[]): Buffer {
  if (rng.chance(0.8)) return frame(Type.SETTINGS, 0, 0);
  labels.push('settings');
  const count = rng.between(1, 4);
  const payload = Buffer.alloc(6 * count);
  for (let i = 0; i < count; i++) {
    // Identifiers 1-6 (and one unknown), values at and past their RFC 9113 §6.5.2 bounds.
    payload.writeUInt16BE(rng.between(1, 7), 6 * i);
    payload.writeUInt32BE(rng.pick([0, 1, 2, 16_383, 16_384, 16_777_215, 16_777_216, 0x7fffffff, 0x80000000, 0xffffffff]), 6 * i + 2);
  }
  return frame(Type.SETTINGS, 0, 0, payload);
}

/** HPACK (RFC 7541 §5.1) integer with an N-bit prefix. */
function hpackInt(value: number, prefixBits: number, firstByteFlags: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([firstByteFlags | value]);
  const out = [firstByteFlags | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

/** Literal header field without indexing, new name (RFC 7541 §6.2.2), no Huffman. */
function literal(name: string, value: string | Buffer): Buffer {
  const nameBytes = Buffer.from(name, 'latin1');
  const valueBytes = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  return Buffer.concat([Buffer.from([0x00]), hpackInt(nameBytes.length, 7, 0), nameBytes, hpackInt(valueBytes.length, 7, 0), valueBytes]);
}

function headerBlock(rng: Prng, rpc: Rpc, labels: string[]): Buffer {
  const headers: [string, string | Buffer][] = [
    [':method', 'POST'],
    [':scheme', 'http'],
    [':path', rpc.path],
    [':authority', 'localhost'],
    ['content-type', 'application/grpc'],
    ['te', 'trailers'],
  ];
  if (rpc.workloadApi ? rng.chance(0.95) : rng.chance(0.1)) headers.push(['workload.spiffe.io', rng.chance(0.95) ? 'true' : rng.pick(['false', 'TRUE', ''])]);
  if (rng.chance(0.1)) headers.push(['grpc-timeout', rng.pick(['1n', '1S', '99999999H', '0m', 'abc', '-1S', '100000000S'])]);
  if (rng.chance(0.25)) {
    labels.push('headers');
    const edits = rng.between(1, 3);
    for (let i = 0; i < edits; i++) {
      const at = rng.int(headers.length);
      switch (rng.int(8)) {
        case 0:
          headers.splice(at, 1);
          break;
        case 1: {
          const header = headers[at];
          if (header) header[1] = fuzzString(rng);
          break;
        }
        case 2:
          headers.push([rng.pick(['X-Upper', ':bogus', 'connection', 'content-length', 'grpc-encoding', 'grpc-accept-encoding', 'host', 'a b']), fuzzString(rng)]);
          break;
        case 3:
          headers.push([':path', rng.pick(RPCS).path]); // a duplicate pseudo-header
          break;
        case 4:
          headers.push(['x-big', 'v'.repeat(rng.pick([8_000, 17_000, 70_000]))]);
          break;
        case 5:
          headers.unshift(['x-first', 'before pseudo-headers']);
          break;
        case 6: {
          const header = headers[at];
          if (header) header[1] = Buffer.from([0x00, 0x0a, 0x0d, 0x7f]);
          break;
        }
        default:
          headers.splice(2, 1, [':path', rng.pick(['/', '/SpiffeWorkloadAPI/Nope', '/envoy.service.secret.v3.SecretDiscoveryService/', '*', `/${'x'.repeat(5000)}`])]);
      }
    }
  }
  const parts = headers.map(([name, value]) => literal(name, value));
  if (rng.chance(0.05)) {
    labels.push('hpack');
    // Garbage: a reference past the tables, a size update above the limit, truncation.
    parts.splice(rng.int(parts.length + 1), 0, rng.pick([Buffer.from([0xff, 0xff, 0xff, 0x7f]), hpackInt(1 << 20, 5, 0x20), Buffer.from([0x80]), rng.bytes(rng.between(1, 12))]));
  }
  return Buffer.concat(parts);
}

/** The gRPC length-prefixed message (gRPC over HTTP/2: Length-Prefixed-Message). */
function grpcMessage(rng: Prng, body: Buffer, labels: string[]): Buffer {
  let flag = 0;
  let payload = body;
  let length = body.length;
  if (rng.chance(0.12)) {
    labels.push('grpc');
    switch (rng.int(6)) {
      case 0:
        flag = 1; // compressed, but no grpc-encoding was negotiated
        payload = rng.chance(0.5) ? gzipSync(body) : body;
        length = payload.length;
        break;
      case 1:
        flag = rng.between(2, 255);
        break;
      case 2:
        length = Math.max(0, body.length + rng.between(-8, 8));
        break;
      case 3:
        length = rng.pick([0xffffffff, 0x7fffffff, 4 * 1024 * 1024 + 1, 65_536]);
        break;
      case 4:
        return Buffer.from([0, 0, 0]); // a prefix cut short
      default:
        length = 0;
        payload = Buffer.alloc(0);
    }
  }
  const prefix = Buffer.alloc(5);
  prefix[0] = flag;
  prefix.writeUInt32BE(length >>> 0, 1);
  return Buffer.concat([prefix, payload]);
}

function requestBody(rng: Prng, rpc: Rpc, labels: string[]): Buffer {
  const fields = rpc.fields(rng);
  if (rng.chance(0.25)) return mutateFields(rng, fields, labels);
  return Buffer.concat(fields);
}

function streamFrames(rng: Prng, streamId: number, rpc: Rpc, labels: string[]): Buffer[] {
  const block = headerBlock(rng, rpc, labels);
  const frames: Buffer[] = [];
  const messages = rpc.streaming ? rng.between(1, 3) : rng.chance(0.05) ? rng.pick([0, 2]) : 1;
  const endOnHeaders = messages === 0;
  if (block.length <= MAX_FRAME && rng.chance(0.9)) {
    frames.push(frame(Type.HEADERS, END_HEADERS | (endOnHeaders ? END_STREAM : 0), streamId, block));
  } else {
    // HEADERS + CONTINUATION frames (RFC 9113 §6.10), or an oversized HEADERS frame.
    labels.push('continuation');
    const chunk = rng.chance(0.5) ? MAX_FRAME : rng.between(1, 200);
    const pieces: Buffer[] = [];
    for (let at = 0; at < block.length; at += chunk) pieces.push(block.subarray(at, at + chunk));
    pieces.forEach((piece, i) => frames.push(frame(i === 0 ? Type.HEADERS : Type.CONTINUATION, (i === pieces.length - 1 ? END_HEADERS : 0) | (i === 0 && endOnHeaders ? END_STREAM : 0), streamId, piece)));
  }
  const data = Buffer.concat(Array.from({ length: messages }, () => grpcMessage(rng, requestBody(rng, rpc, labels), labels)));
  // DATA frames: one, or split at random points, perhaps padded (RFC 9113 §6.1).
  const splits = rng.chance(0.2) ? rng.between(1, 4) : 0;
  let at = 0;
  const pieces: Buffer[] = [];
  for (let i = 0; i < splits && at < data.length; i++) {
    const next = at + rng.between(1, Math.max(1, data.length - at));
    pieces.push(data.subarray(at, next));
    at = next;
  }
  pieces.push(data.subarray(at));
  const endStream = !endOnHeaders && (rpc.streaming ? rng.chance(0.4) : rng.chance(0.95));
  if (endOnHeaders) return frames;
  const CHUNK = MAX_FRAME - 256;
  const chunks: Buffer[] = [];
  for (const piece of pieces) {
    if (piece.length === 0) chunks.push(piece);
    for (let offset = 0; offset < piece.length; offset += CHUNK) chunks.push(piece.subarray(offset, offset + CHUNK));
  }
  chunks.forEach((slice, i) => {
    const flags = i === chunks.length - 1 && endStream ? END_STREAM : 0;
    if (rng.chance(0.05)) {
      labels.push('padded');
      const pad = rng.int(200);
      // The pad length may claim more than the frame holds (a PROTOCOL_ERROR).
      frames.push(frame(Type.DATA, PADDED | flags, streamId, Buffer.concat([Buffer.from([rng.chance(0.8) ? pad : 255]), slice, Buffer.alloc(pad)])));
    } else {
      frames.push(frame(Type.DATA, flags, streamId, slice));
    }
  });
  return frames;
}

function controlFrame(rng: Prng, labels: string[]): Buffer {
  const u32 = (value: number): Buffer => {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(value >>> 0);
    return out;
  };
  const stream = rng.pick([0, 1, 2, 3, 5, 0x7fffffff]);
  const choice = rng.int(10);
  labels.push(`ctl:${choice}`);
  switch (choice) {
    case 0:
      return frame(Type.PING, rng.chance(0.8) ? 0 : 1, rng.chance(0.9) ? 0 : 1, rng.bytes(rng.chance(0.9) ? 8 : rng.int(12)));
    case 1:
      return frame(Type.WINDOW_UPDATE, 0, stream, u32(rng.pick([0, 1, 65_535, 0x7fffffff, 0x80000000])));
    case 2:
      return frame(Type.RST_STREAM, 0, stream, u32(rng.pick([0, 2, 8, 0xffffffff])));
    case 3: // PRIORITY, possibly depending on itself (RFC 9113 §5.3.1)
      return frame(Type.PRIORITY, 0, stream, Buffer.concat([u32(rng.chance(0.5) ? stream : 3), Buffer.from([rng.int(256)])]));
    case 4:
      return frame(Type.GOAWAY, 0, rng.chance(0.9) ? 0 : 1, Buffer.concat([u32(rng.pick([0, 1, 0x7fffffff])), u32(rng.int(14)), rng.bytes(rng.int(16))]));
    case 5: // clients must not push (RFC 9113 §8.4)
      return frame(Type.PUSH_PROMISE, END_HEADERS, 1, Buffer.concat([u32(2), literal(':path', '/')]));
    case 6:
      return frame(Type.SETTINGS, 1, 0, rng.chance(0.8) ? Buffer.alloc(0) : rng.bytes(6)); // ACK, maybe with a payload
    case 7:
      return frame(rng.between(0x0a, 0xff), rng.int(256), stream, rng.bytes(rng.int(32))); // unknown type: ignored
    case 8:
      return frame(Type.CONTINUATION, END_HEADERS, stream, literal('x', 'y')); // with no HEADERS before it
    default:
      return frame(Type.DATA, END_STREAM, stream, rng.bytes(rng.int(32)));
  }
}

/** Rewrites one frame's header: its type, flags, stream id or declared length. */
function mutateFrame(rng: Prng, frames: Buffer[], labels: string[]): void {
  const at = rng.int(frames.length);
  const original = frames[at];
  if (!original || original.length < 9) return;
  const mutated = Buffer.from(original);
  switch (rng.int(4)) {
    case 0:
      mutated[3] = rng.int(10);
      labels.push('frame:type');
      break;
    case 1:
      mutated[4] = rng.int(256);
      labels.push('frame:flags');
      break;
    case 2:
      mutated.writeUInt32BE(rng.pick([0, 2, 4, 0x80000001, 0xffffffff, 1001]), 5);
      labels.push('frame:stream');
      break;
    default:
      mutated.writeUIntBE(Math.max(0, Math.min(0xffffff, original.length - 9 + rng.pick([-9, -1, 1, 100, 0xffffff]))), 0, 3);
      labels.push('frame:length');
  }
  frames[at] = mutated;
}

/** Byte-level mutations of the whole connection (after `keep` leading bytes). */
function mutateBytes(rng: Prng, bytes: Buffer, keep: number, labels: string[]): Buffer {
  let out = Buffer.from(bytes);
  const edits = rng.between(1, 8);
  for (let i = 0; i < edits && out.length > keep; i++) {
    const at = keep + rng.int(out.length - keep);
    switch (rng.int(4)) {
      case 0:
        out[at] = (out[at] ?? 0) ^ (1 << rng.int(8));
        labels.push('bytes:flip');
        break;
      case 1:
        out = Buffer.concat([out.subarray(0, at), rng.bytes(rng.between(1, 16)), out.subarray(at)]);
        labels.push('bytes:insert');
        break;
      case 2:
        out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + rng.between(1, 16)))]);
        labels.push('bytes:delete');
        break;
      default:
        out = out.subarray(0, at);
        labels.push('bytes:truncate');
    }
  }
  return out;
}
