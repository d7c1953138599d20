/**
 * A workload started as root that opens a FetchX509SVID stream and a StreamSecrets stream, then
 * drops to uid/gid 1000 while both stay open (the HTTP/2 session lives on in this process), as a
 * daemon that initialises as root and then drops privileges would. Reports JSON lines on stdout:
 *   { ready: { x509: [ids], sds: [names] } }         both streams delivered their first message
 *   { dropped: true }                                after SIGUSR2: setgid(1000) + setuid(1000)
 *   { x509: {code|message}, sds: {code|message} }    what each stream did next
 * Usage: node privilege-drop-client-main.js SOCKET [drop|keep]   (keep: the control, no drop)
 */
import { sdsClient, SECRET_TYPE_URL, type DiscoveryResponse } from './envoy-protos';
import { securityHeader, StreamReader, workloadClient, type X509SvidResponse } from './workload-client';

const WAIT_MS = 15_000;

function emit(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** The next event of a stream: a message (its summary) or the status it ended with. */
async function nextEvent<T>(reader: StreamReader<T>, summary: (message: T) => unknown): Promise<object> {
  try {
    return { message: summary(await reader.next(WAIT_MS)) };
  } catch (error) {
    const status = error as { code?: number; details?: string; message?: string };
    return { code: status.code, details: status.details ?? status.message };
  }
}

async function main(): Promise<void> {
  const [socketPath = '', mode = 'drop'] = process.argv.slice(2);
  // Listening before anything is reported, so the test's signal can never find no handler.
  const signalled = new Promise<void>((resolve) => process.once('SIGUSR2', () => resolve()));
  const workload = workloadClient(socketPath);
  const x509 = new StreamReader<X509SvidResponse>(workload.FetchX509SVID({}, securityHeader()));
  const sds = sdsClient(socketPath).StreamSecrets();
  const secrets = new StreamReader<DiscoveryResponse>(sds);
  sds.write({ type_url: SECRET_TYPE_URL, resource_names: ['default'], node: { id: 'sidecar~10.0.0.3', cluster: 'drop' } });
  const first = await Promise.all([x509.next(WAIT_MS), secrets.next(WAIT_MS)]);
  emit({ ready: { x509: first[0].svids.map((svid) => svid.spiffe_id), sds: first[1].resources.length } });
  // ACK, as Envoy does, so the stream waits for the next push.
  sds.write({ type_url: SECRET_TYPE_URL, resource_names: ['default'], version_info: first[1].version_info, response_nonce: first[1].nonce });

  await signalled;
  if (mode === 'drop') {
    process.setgroups?.([1000]);
    process.setgid?.(1000);
    process.setuid?.(1000);
  }
  emit({ dropped: mode === 'drop' });
  const [x509Next, sdsNext] = await Promise.all([nextEvent(x509, (message) => message.svids.map((svid) => svid.spiffe_id)), nextEvent(secrets, (message) => message.version_info)]);
  emit({ x509: x509Next, sds: sdsNext });
  process.exit(0);
}

void main().catch((error: unknown) => {
  emit({ error: (error as Error).message });
  process.exit(1);
});
