/** Raw HTTP/2 bytes for tests that misbehave on purpose (RFC 9113 §3.4, §4.1). */
export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** One frame: 24-bit length, type, flags, stream id (RFC 9113 §4.1). */
export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

const DATA = 0x0;
const HEADERS = 0x1;
const SETTINGS = 0x4;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const emptySettings = frame(SETTINGS, 0, 0);

/**
 * Connection errors found by the adversarial run (issue 14, finding 1); each makes a server send
 * GOAWAY, after which RFC 9113 §5.4.1 says it MUST close the connection.
 */
export const CONNECTION_ERRORS: Readonly<Record<string, Buffer>> = {
  // §6.1: DATA frames MUST be associated with a stream.
  'DATA on stream 0': Buffer.concat([CLIENT_PREFACE, emptySettings, frame(DATA, 0, 0, Buffer.from('x'))]),
  // §6.5: a SETTINGS length not a multiple of 6 is a FRAME_SIZE_ERROR.
  'bad SETTINGS length': Buffer.concat([CLIENT_PREFACE, frame(SETTINGS, 0, 0, Buffer.alloc(5))]),
  // §4.3: a field block that cannot be decompressed is a COMPRESSION_ERROR.
  'garbage HPACK': Buffer.concat([CLIENT_PREFACE, emptySettings, frame(HEADERS, END_HEADERS | END_STREAM, 1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f]))]),
  // §4.2: a frame over SETTINGS_MAX_FRAME_SIZE (16384 by default) is a FRAME_SIZE_ERROR.
  'oversized frame': Buffer.concat([CLIENT_PREFACE, emptySettings, frame(DATA, 0, 1, Buffer.alloc(20_000))]),
};
