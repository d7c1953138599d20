import { encodingOf, readElement } from '../identity/der-reader';

/**
 * Splits concatenated DER certificates (the Workload API's x509_svid and bundle fields): each
 * certificate is one top-level element.
 */
export function splitDerCertificates(bytes: Buffer): Buffer[] {
  const certificates: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    const element = readElement(bytes, offset);
    certificates.push(encodingOf(bytes, element));
    offset = element.end;
  }
  return certificates;
}
