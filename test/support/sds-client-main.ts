/**
 * An Envoy-like SDS client process for the e2e tests: spawned under a chosen uid, it asks for
 * the given secret names on one StreamSecrets stream and prints what came back as one JSON line:
 * each secret's name and, for TLS certificates, the leaf's URI SAN (or the gRPC status).
 * Usage: node sds-client-main.js SOCKET NAME[,NAME...]
 */
import { decodeSecret, sdsClient, SECRET_TYPE_URL, type DiscoveryResponse } from './envoy-protos';
import { pemBlocks, uriSan } from './pem';
import { StreamReader } from './workload-client';

async function main(): Promise<void> {
  const [socketPath = '', names = 'default'] = process.argv.slice(2);
  const client = sdsClient(socketPath);
  const stream = client.StreamSecrets();
  const reader = new StreamReader<DiscoveryResponse>(stream);
  stream.write({ type_url: SECRET_TYPE_URL, resource_names: names.split(','), node: { id: 'sidecar~10.0.0.2', cluster: 'e2e' } });
  try {
    const response = await reader.next(10_000);
    const secrets = response.resources.map(decodeSecret).map((secret) => {
      const leaf = pemBlocks(secret.tls_certificate?.certificate_chain?.inline_bytes?.toString() ?? '')[0];
      return { name: secret.name, leafId: leaf ? (uriSan(leaf) ?? null) : null };
    });
    process.stdout.write(`${JSON.stringify({ secrets })}\n`);
  } catch (error) {
    const status = error as { code?: number; details?: string; message?: string };
    process.stdout.write(`${JSON.stringify({ code: status.code, details: status.details ?? status.message })}\n`);
  } finally {
    stream.cancel();
    client.close();
  }
}

void main();
