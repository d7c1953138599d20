import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';

/** Test-side PEM/DER helpers, written independently of src/ so they check it rather than echo it. */
export function pemBlocks(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

export function derCertificatesToPem(concatenated: Buffer): string {
  const pems: string[] = [];
  let offset = 0;
  while (offset < concatenated.length) {
    // Parse one certificate at a time: X509Certificate needs exactly one DER certificate.
    const lengthByte = concatenated[offset + 1] ?? 0;
    const lengthOctets = lengthByte & 0x80 ? lengthByte & 0x7f : 0;
    let length = lengthOctets ? 0 : lengthByte;
    for (let i = 0; i < lengthOctets; i++) length = length * 256 + (concatenated[offset + 2 + i] ?? 0);
    const end = offset + 2 + lengthOctets + length;
    pems.push(new X509Certificate(concatenated.subarray(offset, end)).toString());
    offset = end;
  }
  return pems.join('');
}

export function pkcs8DerToPem(der: Buffer): string {
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').match(/.{1,64}/g)?.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

/** The URI SAN of a certificate (SPIFFE IDs live there, not in the subject). */
export function uriSan(pem: string): string | undefined {
  const san = new X509Certificate(pem).subjectAltName ?? '';
  return san.split(', ').find((name) => name.startsWith('URI:'))?.slice(4);
}

/** Whether a private key (PEM, or PKCS#8 DER) is the one for the certificate's public key. */
export function keyMatchesCertificate(key: string | Buffer, certificatePem: string): boolean {
  const privateKey = typeof key === 'string' ? createPrivateKey(key) : createPrivateKey({ key, format: 'der', type: 'pkcs8' });
  const fromKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const fromCertificate = new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'der' });
  return fromKey.equals(fromCertificate);
}
