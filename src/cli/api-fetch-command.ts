import { Command } from '@commander-js/extra-typings';
import { X509Certificate } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { derToPem } from '../identity/pem';
import { splitDerCertificates } from './der-chain';
import { writeFileAtomic } from '../common/atomic-file';
import type { X509SvidResponse } from '../workload-api/messages';
import { socketOption, timeoutOption } from './cli-options';
import { exitWith } from './usage-error';
import { resolveEndpointSocket } from './endpoint-socket';
import { fetchX509Once } from './workload-api-client';

export function apiFetchX509Command() {
  return new Command('x509')
    .summary("fetch this process's X.509-SVIDs from a running agent")
    .description("Fetches this process's X.509-SVIDs over the SPIFFE Workload API.\nWithout --write, prints a summary of each SVID.")
    .addOption(socketOption())
    .option('--write <dir>', 'write svid.N.pem (chain, leaf first), svid.N.key (PKCS#8, mode 0600) and bundle.N.pem for each SVID N, as SPIRE\'s "api fetch x509 -write" does')
    .addOption(timeoutOption(10_000))
    .action(async (options) => exitWith(await fetchX509(options)));
}

async function fetchX509(options: { socket?: string; write?: string; timeout: number }): Promise<number> {
  const socketPath = resolveEndpointSocket(options.socket, process.env, process.cwd());
  let response: X509SvidResponse;
  try {
    response = await fetchX509Once(socketPath, options.timeout);
  } catch (error) {
    const serviceError = error as ServiceError;
    console.error(`meshid: fetch from ${socketPath} failed: ${GrpcStatus[serviceError.code] ?? 'ERROR'}: ${serviceError.details ?? serviceError.message}`);
    return 1;
  }
  if (options.write !== undefined) {
    await writeSvidFiles(path.resolve(options.write), response);
  } else {
    printSummary(response);
  }
  return 0;
}

async function writeSvidFiles(directory: string, response: X509SvidResponse): Promise<void> {
  await mkdir(directory, { recursive: true });
  for (const [index, svid] of response.svids.entries()) {
    const chainPem = splitDerCertificates(svid.x509_svid).map((der) => derToPem('CERTIFICATE', der)).join('');
    const bundlePem = splitDerCertificates(svid.bundle).map((der) => derToPem('CERTIFICATE', der)).join('');
    await writeFileAtomic(path.join(directory, `svid.${index}.pem`), chainPem, 0o644);
    await writeFileAtomic(path.join(directory, `svid.${index}.key`), derToPem('PRIVATE KEY', svid.x509_svid_key), 0o600);
    await writeFileAtomic(path.join(directory, `bundle.${index}.pem`), bundlePem, 0o644);
    console.log(`${svid.spiffe_id}: wrote ${path.join(directory, `svid.${index}.pem`)}, svid.${index}.key, bundle.${index}.pem`);
  }
}

function printSummary(response: X509SvidResponse): void {
  console.log(`Received ${response.svids.length} X.509-SVID${response.svids.length === 1 ? '' : 's'}`);
  for (const svid of response.svids) {
    const chain = splitDerCertificates(svid.x509_svid);
    const leaf = new X509Certificate(chain[0] ?? Buffer.alloc(0));
    console.log(`
SPIFFE ID:      ${svid.spiffe_id}${svid.hint ? `\nHint:           ${svid.hint}` : ''}
Serial:         ${leaf.serialNumber}
Valid:          ${new Date(leaf.validFrom).toISOString()} → ${new Date(leaf.validTo).toISOString()}
Chain:          ${chain.length} certificates (leaf + intermediates)
Bundle:         ${splitDerCertificates(svid.bundle).length} root certificates`);
  }
}
