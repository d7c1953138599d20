/**
 * Makes one FetchX509SVID call over an already connected agent socket inherited as fd 3, speaking
 * gRPC over HTTP/2 by hand (grpc-js cannot adopt a connected socket), and sends one JSON line to
 * REPORT_SOCKET: `{ status, details }` from the gRPC status, or the `spiffeIds` of the first
 * response message. With on-signal it first reports `{ readyPid }` and calls on SIGUSR2.
 *   node inherited-socket-caller-main.js REPORT_SOCKET [now|on-signal]
 */
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import * as protobuf from 'protobufjs';

// Bounds a hung call so an orphaned caller does not outlive the test run; it also keeps this
// process alive while it waits for its signal.
const GIVE_UP_MS = 15_000;
const PROTO = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'e2e', 'workload.proto');

const [reportSocket = '', mode = 'now'] = process.argv.slice(2);
let reported = false;

function send(message: object, then: () => void): void {
  const out = net.connect(reportSocket, () => out.end(`${JSON.stringify(message)}\n`));
  out.once('close', then);
  out.once('error', () => process.exit(4));
}

function report(result: object): void {
  if (reported) return;
  reported = true;
  send(result, () => process.exit(0));
}

function statusOf(headers: http2.IncomingHttpHeaders): object | undefined {
  const status = headers['grpc-status'];
  if (status === undefined) return undefined;
  return { status: Number(status), details: decodeURIComponent(String(headers['grpc-message'] ?? '')) };
}

/** The SPIFFE IDs of the first length-prefixed gRPC message once it is complete. */
function firstMessageIds(buffered: Buffer): string[] | undefined {
  if (buffered.length < 5) return undefined;
  const length = buffered.readUInt32BE(1);
  if (buffered.length < 5 + length) return undefined;
  const type = protobuf.loadSync(PROTO).lookupType('X509SVIDResponse');
  const message = type.toObject(type.decode(buffered.subarray(5, 5 + length))) as { svids?: { spiffeId: string }[] };
  return (message.svids ?? []).map((svid) => svid.spiffeId);
}

function call(): void {
  const socket = new net.Socket({ fd: 3, readable: true, writable: true });
  const session = http2.connect('http://localhost', { createConnection: () => socket });
  session.on('error', (error) => report({ error: error.message }));
  const stream = session.request({
    ':method': 'POST',
    ':path': '/SpiffeWorkloadAPI/FetchX509SVID',
    'content-type': 'application/grpc',
    te: 'trailers',
    'workload.spiffe.io': 'true',
  });
  // One gRPC message: not compressed, length 0 (an empty X509SVIDRequest).
  stream.end(Buffer.alloc(5));
  stream.on('response', (headers) => {
    const status = statusOf(headers); // a trailers-only response carries the status here
    if (status) report(status);
  });
  let buffered = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    const spiffeIds = firstMessageIds(buffered);
    if (spiffeIds) report({ spiffeIds });
  });
  stream.on('trailers', (trailers) => report(statusOf(trailers) ?? { error: 'trailers without grpc-status' }));
  stream.on('error', (error) => report({ error: error.message }));
}

setTimeout(() => report({ error: 'timed out' }), GIVE_UP_MS);
if (mode === 'on-signal') {
  process.once('SIGUSR2', call);
  // Only now may the signal come: before the handler exists it would kill this process.
  send({ readyPid: process.pid }, () => undefined);
} else call();
