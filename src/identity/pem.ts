export type PemLabel = 'CERTIFICATE' | 'PRIVATE KEY';

export function derToPem(label: PemLabel, der: Buffer): string {
  const base64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Every PEM block in `pem` (optionally only those with `label`), decoded to DER, in order. */
export function pemToDerList(pem: string, label?: string): Buffer[] {
  const blocks: Buffer[] = [];
  const pattern = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let match = pattern.exec(pem); match; match = pattern.exec(pem)) {
    if (label !== undefined && match[1] !== label) continue;
    blocks.push(Buffer.from((match[2] ?? '').replace(/\s+/g, ''), 'base64'));
  }
  return blocks;
}
