import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { uriSan } from './pem';

export interface TlsIdentity {
  chainPem: string;
  keyPem: string;
  bundlePem: string;
}

export interface HandshakeResult {
  /** Whether application data went through both ways. */
  ok: boolean;
  clientSawServer?: string;
  serverSawClient?: string;
  /** Why the client gave up (verification or checkServerIdentity), if it did. */
  clientError?: string;
  /** The server's tlsClientError code (e.g. a refused client certificate), if any. */
  serverError?: string;
}

/**
 * One mutual-TLS exchange on loopback. SPIFFE authorizes by the URI SAN, not the host name
 * (X509-SVID spec §5): after chain validation against the bundle, the client checks the server's
 * SPIFFE ID in checkServerIdentity and the server checks the client's before answering.
 * Never rejects: the result says how far it got, so tests can assert why a handshake failed.
 */
export function spiffeHandshake(server: TlsIdentity, client: TlsIdentity, ids: { server: string; client: string }): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    const result: HandshakeResult = { ok: false };
    // rejectUnauthorized is off only so the refusal reason is visible: Node's own rejection
    // destroys the socket silently ("socket hang up"). The check is made here instead.
    const tlsServer = tls.createServer({ cert: server.chainPem, key: server.keyPem, ca: server.bundlePem, requestCert: true, rejectUnauthorized: false }, (socket) => {
      socket.on('error', () => undefined); // the client hanging up early is reported from its side
      if (!socket.authorized) {
        result.serverError = String(socket.authorizationError);
        socket.destroy();
        return;
      }
      result.serverSawClient = uriSan(socket.getPeerX509Certificate()?.toString() ?? '');
      if (result.serverSawClient === ids.client) socket.end('hello');
      else socket.destroy();
    });
    tlsServer.on('tlsClientError', (error: Error & { code?: string }) => {
      result.serverError ??= `${error.code ?? ''} ${error.message}`; // the first error is the cause
    });
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(bound);
      tlsServer.close();
      resolve(result);
    };
    // A bound against a hang, not a timing under test.
    const bound = setTimeout(() => {
      result.clientError ??= 'no outcome within 10 s';
      finish();
    }, 10_000);
    tlsServer.listen(0, '127.0.0.1', () => {
      const { port } = tlsServer.address() as AddressInfo;
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        cert: client.chainPem,
        key: client.keyPem,
        ca: client.bundlePem,
        checkServerIdentity: (_host, certificate) => {
          const id = uriSan(new X509Certificate(certificate.raw).toString());
          return id === ids.server ? undefined : new Error(`unexpected server SPIFFE ID ${id}`);
        },
      });
      socket.on('data', (chunk: Buffer) => {
        result.clientSawServer = uriSan(socket.getPeerX509Certificate()?.toString() ?? '');
        result.ok = chunk.toString() === 'hello';
        socket.end();
      });
      socket.on('error', (error: Error & { code?: string }) => {
        result.clientError ??= `${error.code ?? ''} ${error.message}`;
      });
      // Under TLS 1.3 the server checks the client certificate after the client's handshake
      // completes; a refusal then shows as the connection closing without data.
      socket.on('close', () => setImmediate(finish));
    });
  });
}
