/**
 * Splits concatenated DER certificates (the Workload API's x509_svid and bundle fields) by reading
 * each top-level SEQUENCE header (X.690 §8.1.3 definite lengths).
 */
export function splitDerCertificates(bytes: Buffer): Buffer[] {
  const certificates: Buffer[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes[offset] !== 0x30) throw new Error(`expected a DER SEQUENCE at byte ${offset}`);
    const first = bytes[offset + 1] ?? 0;
    let length = first;
    let header = 2;
    if (first & 0x80) {
      const octets = first & 0x7f;
      if (octets === 0 || octets > 4) throw new Error(`unsupported DER length at byte ${offset}`);
      length = 0;
      for (let i = 0; i < octets; i++) length = length * 256 + (bytes[offset + 2 + i] ?? 0);
      header += octets;
    }
    const end = offset + header + length;
    if (end > bytes.length) throw new Error('truncated DER certificate');
    certificates.push(bytes.subarray(offset, end));
    offset = end;
  }
  return certificates;
}
