/**
 * Reads what Node's X509Certificate does not expose (keyUsage bits, basicConstraints cA and
 * pathLenConstraint) from an operator's certificate. A few lines of DER
 * reading, kept here so upstream checks do not depend on the minting code's internals.
 */

interface Element {
  readonly tag: number;
  readonly contentStart: number;
  readonly end: number;
}

function readElement(bytes: Buffer, offset: number): Element {
  const tag = bytes[offset];
  const first = bytes[offset + 1];
  if (tag === undefined || first === undefined) throw new Error('DER: truncated');
  let length = first;
  let header = 2;
  if (first & 0x80) {
    const octets = first & 0x7f;
    if (octets === 0 || octets > 4) throw new Error('DER: unsupported length');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + (bytes[offset + 2 + i] ?? 0);
    header += octets;
  }
  const end = offset + header + length;
  if (end > bytes.length) throw new Error('DER: element runs past the end');
  return { tag, contentStart: offset + header, end };
}

function children(bytes: Buffer, parent: Element): Element[] {
  const result: Element[] = [];
  for (let offset = parent.contentStart; offset < parent.end; offset = result[result.length - 1]?.end ?? parent.end) {
    result.push(readElement(bytes, offset));
  }
  return result;
}

const content = (bytes: Buffer, element: Element): Buffer => bytes.subarray(element.contentStart, element.end);

const TAG_BOOLEAN = 0x01;
const TAG_INTEGER = 0x02;
const TAG_OID = 0x06;
const TAG_EXTENSIONS = 0xa3; // [3] EXPLICIT Extensions in TBSCertificate
// OID contents (without tag and length) of id-ce-keyUsage (2.5.29.15) and id-ce-basicConstraints (2.5.29.19).
const KEY_USAGE = Buffer.from([0x55, 0x1d, 0x0f]);
const BASIC_CONSTRAINTS = Buffer.from([0x55, 0x1d, 0x13]);

/** The DER inside an extension's extnValue OCTET STRING, or undefined when absent. */
function extensionValue(certificateDer: Buffer, extensionOid: Buffer): Buffer | undefined {
  const [tbs] = children(certificateDer, readElement(certificateDer, 0));
  const wrapper = tbs && children(certificateDer, tbs).find((field) => field.tag === TAG_EXTENSIONS);
  const [list] = wrapper ? children(certificateDer, wrapper) : [];
  for (const extension of list ? children(certificateDer, list) : []) {
    const parts = children(certificateDer, extension);
    const [id] = parts;
    const value = parts[parts.length - 1];
    if (id?.tag === TAG_OID && value && content(certificateDer, id).equals(extensionOid)) return content(certificateDer, value);
  }
  return undefined;
}

/** Whether keyUsage allows keyCertSign; an absent keyUsage restricts nothing (RFC 5280 §4.2.1.3). */
export function allowsKeyCertSign(certificateDer: Buffer): boolean {
  const value = extensionValue(certificateDer, KEY_USAGE);
  if (!value) return true;
  const bits = content(value, readElement(value, 0)); // BIT STRING: unused-bits byte, then the bits
  return ((bits[1] ?? 0) & (0x80 >> 5)) !== 0; // keyCertSign is bit 5
}

/**
 * basicConstraints cA. Read here because Node's X509Certificate.ca (OpenSSL's X509_check_ca)
 * also says false for a cA=true certificate whose keyUsage lacks keyCertSign, which would make
 * the error message point at the wrong extension.
 */
export function basicConstraintsCa(certificateDer: Buffer): boolean {
  const value = extensionValue(certificateDer, BASIC_CONSTRAINTS);
  if (!value) return false;
  const [first] = children(value, readElement(value, 0));
  return first?.tag === TAG_BOOLEAN && content(value, first)[0] !== 0;
}

/** basicConstraints pathLenConstraint (RFC 5280 §4.2.1.9), or undefined when absent (no limit). */
export function pathLengthConstraint(certificateDer: Buffer): number | undefined {
  const value = extensionValue(certificateDer, BASIC_CONSTRAINTS);
  if (!value) return undefined;
  const pathLen = children(value, readElement(value, 0)).find((field) => field.tag === TAG_INTEGER);
  return pathLen ? content(value, pathLen).reduce((total, byte) => total * 256 + byte, 0) : undefined;
}
