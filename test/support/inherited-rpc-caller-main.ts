/**
 * Makes every identity-bearing call of meshid's socket — FetchX509SVID, FetchX509Bundles,
 * FetchJWTSVID, StreamSecrets, FetchSecrets, DeltaSecrets — over an already connected agent socket
 * inherited as fd 3 (grpc-js cannot adopt a connected socket, so gRPC is spoken over HTTP/2 by
 * hand), and sends one JSON line to REPORT_SOCKET: per RPC, the gRPC status and whether any
 * response message arrived. Used by the connector-binding tests, where the process making these
 * calls is not the one that connected.
 *   node inherited-rpc-caller-main.js REPORT_SOCKET
 */
import http2 from 'node:http2';
import net from 'node:net';
import * as protobuf from 'protobufjs';

const GIVE_UP_MS = 15_000;
const SECRET_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

export interface RpcOutcome {
  status?: number;
  details?: string;
  /** Response messages received before the call ended (each would carry an identity or bundle). */
  messages: number;
  error?: string;
}
export type CallerReport = Record<string, RpcOutcome>;

/** Request bodies, encoded from the field numbers of the standard protos (not meshid's copies). */
function requests(): Record<string, { path: string; body: Uint8Array; headers?: Record<string, string> }> {
  const workloadHeader = { 'workload.spiffe.io': 'true' };
  // JWTSVIDRequest { repeated string audience = 1; }
  const jwt = protobuf.Writer.create().uint32((1 << 3) | 2).string('audience-1').finish();
  // DiscoveryRequest { repeated string resource_names = 3; string type_url = 4; }
  const discovery = protobuf.Writer.create().uint32((3 << 3) | 2).string('default').uint32((4 << 3) | 2).string(SECRET_TYPE_URL).finish();
  // DeltaDiscoveryRequest { string type_url = 2; repeated string resource_names_subscribe = 3; }
  const delta = protobuf.Writer.create().uint32((2 << 3) | 2).string(SECRET_TYPE_URL).uint32((3 << 3) | 2).string('default').finish();
  return {
    FetchX509SVID: { path: '/SpiffeWorkloadAPI/FetchX509SVID', body: new Uint8Array(), headers: workloadHeader },
    FetchX509Bundles: { path: '/SpiffeWorkloadAPI/FetchX509Bundles', body: new Uint8Array(), headers: workloadHeader },
    FetchJWTSVID: { path: '/SpiffeWorkloadAPI/FetchJWTSVID', body: jwt, headers: workloadHeader },
    StreamSecrets: { path: '/envoy.service.secret.v3.SecretDiscoveryService/StreamSecrets', body: discovery },
    FetchSecrets: { path: '/envoy.service.secret.v3.SecretDiscoveryService/FetchSecrets', body: discovery },
    DeltaSecrets: { path: '/envoy.service.secret.v3.SecretDiscoveryService/DeltaSecrets', body: delta },
  };
}

function frame(body: Uint8Array): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

function statusOf(headers: http2.IncomingHttpHeaders): { status: number; details: string } | undefined {
  const status = headers['grpc-status'];
  if (status === undefined) return undefined;
  return { status: Number(status), details: decodeURIComponent(String(headers['grpc-message'] ?? '')) };
}

/** One call; a stream that sends a message is cancelled at once (that message is the finding). */
function call(session: http2.ClientHttp2Session, path: string, body: Uint8Array, headers: Record<string, string>): Promise<RpcOutcome> {
  return new Promise((resolve) => {
    const outcome: RpcOutcome = { messages: 0 };
    let done = false;
    const finish = (extra: Partial<RpcOutcome>): void => {
      if (done) return;
      done = true;
      Object.assign(outcome, extra);
      resolve(outcome);
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    };
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    // Streams stay open (the server pushes later); unary and refused calls end with a status.
    if (path.endsWith('Secrets') && !path.endsWith('FetchSecrets')) stream.write(frame(body));
    else stream.end(frame(body));
    let buffered = Buffer.alloc(0);
    stream.on('response', (responseHeaders) => {
      const status = statusOf(responseHeaders);
      if (status) finish(status);
    });
    stream.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 5 && buffered.length >= 5 + buffered.readUInt32BE(1)) {
        outcome.messages++;
        buffered = buffered.subarray(5 + buffered.readUInt32BE(1));
      }
      if (outcome.messages > 0) finish({});
    });
    stream.on('trailers', (trailers) => finish(statusOf(trailers) ?? { error: 'trailers without grpc-status' }));
    stream.on('error', (error) => finish({ error: error.message }));
    stream.on('close', () => finish({ error: 'stream closed without a status' }));
  });
}

async function main(): Promise<void> {
  const [reportSocket = ''] = process.argv.slice(2);
  const socket = new net.Socket({ fd: 3, readable: true, writable: true });
  const session = http2.connect('http://localhost', { createConnection: () => socket });
  session.on('error', () => undefined); // each call reports its own failure
  const report: CallerReport = {};
  // One at a time, so each outcome is that call's own.
  for (const [name, { path, body, headers }] of Object.entries(requests())) {
    report[name] = await call(session, path, body, headers ?? {});
  }
  session.destroy();
  const out = net.connect(reportSocket, () => out.end(`${JSON.stringify(report)}\n`));
  out.once('close', () => process.exit(0));
  out.once('error', () => process.exit(4));
}

setTimeout(() => process.exit(5), GIVE_UP_MS).unref();
void main();
