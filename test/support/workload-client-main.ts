/**
 * A workload process for the e2e tests: spawned under a chosen uid, it fetches its X.509-SVIDs
 * once and prints the result as one JSON line. Usage: node workload-client-main.js SOCKET [noheader]
 */
import { workloadClient, securityHeader, StreamReader, type X509SvidResponse } from './workload-client';
import { derCertificatesToPem, pkcs8DerToPem } from './pem';

async function main(): Promise<void> {
  const [socketPath, mode] = process.argv.slice(2);
  const client = workloadClient(socketPath ?? '');
  const reader = new StreamReader<X509SvidResponse>(client.FetchX509SVID({}, securityHeader(mode !== 'noheader')));
  try {
    const response = await reader.next(10_000);
    const svids = response.svids.map((svid) => ({
      spiffeId: svid.spiffe_id,
      chainPem: derCertificatesToPem(svid.x509_svid),
      keyPem: pkcs8DerToPem(svid.x509_svid_key),
      bundlePem: derCertificatesToPem(svid.bundle),
      hint: svid.hint,
    }));
    process.stdout.write(`${JSON.stringify({ svids })}\n`);
  } catch (error) {
    const status = error as { code?: number; details?: string };
    process.stdout.write(`${JSON.stringify({ code: status.code, details: status.details })}\n`);
  }
  reader.call.cancel();
  client.close();
}

void main();
