/**
 * A minimal DER (X.690 §10) writer. Hand-written on purpose: minting is the agent's hot path
 * (start-up and CA rotation re-mint every SVID on the node at once), and building the ASN.1
 * through @peculiar/x509 + WebCrypto measured ~190 certificates/s against >10,000/s for a
 * precomputed template filled in with the helpers below (bench/mint.ts). Definite lengths only,
 * and only what X.509 needs.
 *
 * Two styles: the composing helpers (`tlv`, `sequence`, ...) allocate and are for constants and
 * the rare CA path; `headerLength` + `writeHeader` let the leaf template write a whole
 * TBSCertificate into one buffer without intermediate allocations.
 */

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Bytes taken by a one-byte tag plus the DER length of `length` (X.690 §8.1.3). */
export function headerLength(length: number): number {
  if (length < 0x80) return 2;
  if (length < 0x100) return 3;
  if (length < 0x10000) return 4;
  if (length < 0x1000000) return 5;
  throw new RangeError(`DER: length ${length} too large`);
}

/** Writes tag and length at `offset`; returns the offset of the content. */
export function writeHeader(target: Buffer, offset: number, tag: number, length: number): number {
  target[offset++] = tag;
  if (length < 0x80) {
    target[offset++] = length;
  } else if (length < 0x100) {
    target[offset++] = 0x81;
    target[offset++] = length;
  } else if (length < 0x10000) {
    target[offset++] = 0x82;
    target[offset++] = length >>> 8;
    target[offset++] = length & 0xff;
  } else {
    target[offset++] = 0x83;
    target[offset++] = length >>> 16;
    target[offset++] = (length >>> 8) & 0xff;
    target[offset++] = length & 0xff;
  }
  return offset;
}

/** Size of a whole TLV whose content is `length` bytes. */
export const tlvLength = (length: number): number => headerLength(length) + length;

export function tlv(tag: number, content: Buffer): Buffer {
  const out = Buffer.allocUnsafe(tlvLength(content.length));
  content.copy(out, writeHeader(out, 0, tag, content.length));
  return out;
}

export const sequence = (...parts: Buffer[]): Buffer => tlv(TAG.SEQUENCE, Buffer.concat(parts));
export const set = (...parts: Buffer[]): Buffer => tlv(TAG.SET, Buffer.concat(parts));
export const octetString = (content: Buffer): Buffer => tlv(TAG.OCTET_STRING, content);
/** A BIT STRING whose length is a whole number of bytes (signatures, public keys). */
export const bitString = (content: Buffer): Buffer => tlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([0]), content]));
export const utf8String = (text: string): Buffer => tlv(TAG.UTF8_STRING, Buffer.from(text, 'utf8'));
export const BOOLEAN_TRUE = Buffer.from([TAG.BOOLEAN, 1, 0xff]);
export const NULL = Buffer.from([TAG.NULL, 0]);
/** Context-specific tag number n: constructed for EXPLICIT wrapping, primitive for IMPLICIT. */
export const explicit = (n: number, content: Buffer): Buffer => tlv(0xa0 | n, content);
export const implicitPrimitive = (n: number, content: Buffer): Buffer => tlv(0x80 | n, content);

/** A non-negative INTEGER from its unsigned big-endian magnitude (minimal encoding, §8.3.2). */
export function unsignedInteger(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const needsPad = ((trimmed[0] ?? 0) & 0x80) !== 0;
  return tlv(TAG.INTEGER, needsPad ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

export function smallInteger(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) throw new RangeError(`integer out of range: ${value}`);
  const bytes: number[] = [];
  let remaining = value;
  do {
    bytes.unshift(remaining & 0xff);
    remaining = Math.floor(remaining / 256);
  } while (remaining > 0);
  return unsignedInteger(Buffer.from(bytes));
}

/** OBJECT IDENTIFIER from dotted text (X.690 §8.19); only ever called for constants. */
export function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes: number[] = [first * 40 + second];
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f];
    for (let remaining = Math.floor(arc / 128); remaining > 0; remaining = Math.floor(remaining / 128)) chunk.unshift(0x80 | (remaining & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(TAG.OID, Buffer.from(bytes));
}
