/**
 * A minimal DER reader: just enough to take an issuer certificate apart once per intermediate
 * (subject Name bytes, SPKI, extensions). Strict about lengths, so a malformed certificate fails
 * here rather than producing a malformed template.
 */

/** One decoded element: where its header starts, where its content is, and where it ends. */
export interface Element {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

export function readElement(bytes: Buffer, offset: number, limit = bytes.length): Element {
  const tag = bytes[offset];
  const first = bytes[offset + 1];
  if (tag === undefined || first === undefined || offset + 2 > limit) throw new Error(`DER: truncated at byte ${offset}`);
  if ((tag & 0x1f) === 0x1f) throw new Error(`DER: multi-byte tag at byte ${offset}`);
  let length = first;
  let header = 2;
  if (first & 0x80) {
    const octets = first & 0x7f;
    if (octets === 0 || octets > 4) throw new Error(`DER: unsupported length form at byte ${offset}`);
    length = 0;
    for (let i = 0; i < octets; i++) {
      const byte = bytes[offset + 2 + i];
      if (byte === undefined) throw new Error(`DER: truncated length at byte ${offset}`);
      length = length * 256 + byte;
    }
    header += octets;
  }
  const end = offset + header + length;
  if (end > limit) throw new Error(`DER: element at byte ${offset} runs past its container`);
  return { tag, start: offset, contentStart: offset + header, end };
}

/** The elements directly inside a constructed element. */
export function children(bytes: Buffer, parent: Element): Element[] {
  const result: Element[] = [];
  for (let offset = parent.contentStart; offset < parent.end; ) {
    const child = readElement(bytes, offset, parent.end);
    result.push(child);
    offset = child.end;
  }
  return result;
}

export const contentOf = (bytes: Buffer, element: Element): Buffer => bytes.subarray(element.contentStart, element.end);
export const encodingOf = (bytes: Buffer, element: Element): Buffer => bytes.subarray(element.start, element.end);
