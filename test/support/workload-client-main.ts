/**
 * A workload process for the e2e tests: spawned under a chosen uid, it makes one Workload API
 * call, takes the first message and prints it as one JSON line (or the gRPC status it got).
 * Usage: node workload-client-main.js SOCKET [svid|bundles|jwt|jwt-bundles|validate] [header|noheader] [REQUEST_JSON]
 */
import { callUnary, structToJson, workloadClient, securityHeader, StreamReader, type JwtBundlesResponse, type X509BundlesResponse, type X509SvidResponse } from './workload-client';
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

async function fetchJwtSvids(socketPath: string, header: boolean, request: object): Promise<object> {
  const client = workloadClient(socketPath);
  try {
    const response = await callUnary(client.FetchJWTSVID, client, request, securityHeader(header));
    return { jwtSvids: response.svids.map((svid) => ({ spiffeId: svid.spiffe_id, svid: svid.svid, hint: svid.hint })) };
  } finally {
    client.close();
  }
}

async function fetchJwtBundles(socketPath: string, header: boolean): Promise<object> {
  const client = workloadClient(socketPath);
  const reader = new StreamReader<JwtBundlesResponse>(client.FetchJWTBundles({}, securityHeader(header)));
  try {
    const response = await reader.next(10_000);
    return { jwtBundles: Object.fromEntries(Object.entries(response.bundles).map(([td, jwks]) => [td, jwks.toString('utf8')])) };
  } finally {
    reader.call.cancel();
    client.close();
  }
}

async function validateJwt(socketPath: string, header: boolean, request: object): Promise<object> {
  const client = workloadClient(socketPath);
  try {
    const response = await callUnary(client.ValidateJWTSVID, client, request, securityHeader(header));
    return { validated: { spiffeId: response.spiffe_id, claims: structToJson(response.claims) } };
  } finally {
    client.close();
  }
}

const RPCS: Record<string, (socketPath: string, header: boolean, request: object) => Promise<object>> = {
  svid: fetchSvids,
  bundles: fetchBundles,
  jwt: fetchJwtSvids,
  'jwt-bundles': fetchJwtBundles,
  validate: validateJwt,
};

async function main(): Promise<void> {
  const [socketPath = '', rpc = 'svid', header = 'header', request = '{}'] = process.argv.slice(2);
  const fetch = RPCS[rpc] ?? fetchSvids;
  try {
    process.stdout.write(`${JSON.stringify(await fetch(socketPath, header !== 'noheader', JSON.parse(request) as object))}\n`);
  } catch (error) {
    const status = error as { code?: number; details?: string; message?: string };
    process.stdout.write(`${JSON.stringify({ code: status.code, details: status.details ?? status.message })}\n`);
  }
}

void main();
