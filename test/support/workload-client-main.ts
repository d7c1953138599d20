/**
 * A workload process for the e2e tests: spawned under a chosen uid, it makes one Workload API
 * call, takes the first message and prints it as one JSON line (or the gRPC status it got).
 * Usage: node workload-client-main.js SOCKET [svid|bundles] [header|noheader]
 */
import { workloadClient, securityHeader, StreamReader, type X509BundlesResponse, type X509SvidResponse } from './workload-client';
import { derCertificatesToPem, pkcs8DerToPem } from './pem';

async function fetchSvids(socketPath: string, header: boolean): Promise<object> {
  const client = workloadClient(socketPath);
  const reader = new StreamReader<X509SvidResponse>(client.FetchX509SVID({}, securityHeader(header)));
  try {
    const response = await reader.next(10_000);
    const svids = response.svids.map((svid) => ({
      spiffeId: svid.spiffe_id,
      chainPem: derCertificatesToPem(svid.x509_svid),
      keyPem: pkcs8DerToPem(svid.x509_svid_key),
      bundlePem: derCertificatesToPem(svid.bundle),
      hint: svid.hint,
    }));
    return { svids };
  } finally {
    reader.call.cancel();
    client.close();
  }
}

async function fetchBundles(socketPath: string, header: boolean): Promise<object> {
  const client = workloadClient(socketPath);
  const reader = new StreamReader<X509BundlesResponse>(client.FetchX509Bundles({}, securityHeader(header)));
  try {
    const response = await reader.next(10_000);
    const bundles = Object.fromEntries(Object.entries(response.bundles).map(([td, der]) => [td, derCertificatesToPem(der)]));
    return { bundles };
  } finally {
    reader.call.cancel();
    client.close();
  }
}

async function main(): Promise<void> {
  const [socketPath = '', rpc = 'svid', header = 'header'] = process.argv.slice(2);
  const fetch = rpc === 'bundles' ? fetchBundles : fetchSvids;
  try {
    process.stdout.write(`${JSON.stringify(await fetch(socketPath, header !== 'noheader'))}\n`);
  } catch (error) {
    const status = error as { code?: number; details?: string; message?: string };
    process.stdout.write(`${JSON.stringify({ code: status.code, details: status.details ?? status.message })}\n`);
  }
}

void main();
