import { isIP } from 'node:net';
import tls, { type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import type { Finding } from './finding';

export interface PeerTarget {
  readonly host: string;
  readonly port: number;
  readonly servername?: string;
  /** Client credentials (PEM) presented to a server that asks for them. */
  readonly clientCertificate?: { readonly chainPem: string; readonly keyPem: string };
  readonly timeoutMs: number;
}

export interface PeerChain {
  /** DER, leaf first, each followed by its issuer as Node matched them. */
  readonly chain: Buffer[];
  readonly findings: Finding[];
}

/** After the handshake, how long to wait for the server to refuse our client certificate. */
const REFUSAL_WAIT_MS = 3000;

/**
 * Handshakes with the peer to take its certificate chain. Verification is off on purpose: the
 * doctor judges the chain itself and must see it even when it would be refused. With TLS 1.3 a
 * server refuses a client certificate only after the client's handshake is done, so after
 * taking the chain the client closes its side and listens for an alert before the server's close.
 */
export function fetchPeerChain(target: PeerTarget): Promise<PeerChain> {
  return new Promise((resolve) => {
    const findings: Finding[] = [];
    let chain: Buffer[] = [];
    let socket: TLSSocket;
    try {
      socket = tls.connect({
        host: target.host,
        port: target.port,
        // SNI carries host names only (RFC 6066 §3).
        ...(target.servername ? { servername: target.servername } : isIP(target.host) ? {} : { servername: target.host }),
        ...(target.clientCertificate && { cert: target.clientCertificate.chainPem, key: target.clientCertificate.keyPem }),
        rejectUnauthorized: false,
      });
    } catch (error) {
      findings.push({ id: 'tls.client-credentials', severity: 'error', where: 'key', message: `--cert/--key cannot be used as client credentials: ${(error as Error).message}`, fix: 'run meshid doctor --cert/--key on those files to see what is wrong with them' });
      return resolve({ chain, findings });
    }
    let handshakeDone = false;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(bound);
      if (!handshakeDone && findings.length === 0) {
        findings.push({ id: 'tls.handshake-failed', severity: 'error', message: `${target.host}:${target.port} closed the connection during the TLS handshake`, fix: 'check that the port serves TLS and that client and server share a TLS version and cipher suite' });
      }
      socket.destroy();
      resolve({ chain, findings });
    };
    let bound = setTimeout(() => {
      findings.push({ id: 'connect.timeout', severity: 'error', message: `no TLS handshake with ${target.host}:${target.port} within ${target.timeoutMs / 1000} s`, fix: 'check that the port serves TLS (not plain HTTP/gRPC) and that no firewall drops the connection' });
      finish();
    }, target.timeoutMs);
    socket.once('secureConnect', () => {
      handshakeDone = true;
      chain = peerChain(socket);
      if (chain.length === 0) findings.push({ id: 'chain.empty', severity: 'error', message: `${target.host}:${target.port} presented no certificate`, fix: 'configure the server with its certificate chain and key' });
      clearTimeout(bound);
      bound = setTimeout(finish, Math.min(REFUSAL_WAIT_MS, target.timeoutMs));
      socket.end();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const finding = classify(error, handshakeDone, target);
      if (finding) findings.push(finding);
      finish();
    });
    socket.once('close', finish);
  });
}

/** The peer's chain as Node reconstructs it: leaf, then each issuer it found, no repeats. */
function peerChain(socket: TLSSocket): Buffer[] {
  const chain: Buffer[] = [];
  let current: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (current?.raw && !chain.some((der) => der.equals(current?.raw ?? Buffer.alloc(0)))) {
    chain.push(current.raw);
    current = current.issuerCertificate;
  }
  return chain;
}

function classify(error: NodeJS.ErrnoException, handshakeDone: boolean, target: PeerTarget): Finding | undefined {
  const code = error.code ?? '';
  const peer = `${target.host}:${target.port}`;
  if (/ALERT_CERTIFICATE_REQUIRED/.test(code)) {
    return { id: 'tls.client-certificate-required', severity: 'error', message: `${peer} requires a client certificate and none was presented`, fix: 'pass the client SVID as --cert and --key' };
  }
  if (/ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_EXPIRED|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|CERTIFICATE_REVOKED|ACCESS_DENIED)/.test(code)) {
    return {
      id: 'tls.client-certificate-refused',
      severity: 'error',
      message: `${peer} refused the client certificate (${code})`,
      fix: target.clientCertificate ? "make the server's bundle include the root of the client SVID, and check the client files with meshid doctor --cert --key --bundle" : 'pass the client SVID as --cert and --key',
    };
  }
  // After our close, a reset says nothing about the certificates.
  if (handshakeDone) return undefined;
  if (code.startsWith('ERR_SSL_') || /SSL|TLS/.test(error.message)) {
    return { id: 'tls.handshake-failed', severity: 'error', message: `the TLS handshake with ${peer} failed: ${error.message}`, fix: 'check that the port serves TLS and that client and server share a TLS version and cipher suite' };
  }
  return { id: 'connect.failed', severity: 'error', message: `cannot connect to ${peer}: ${code || error.message}`, fix: 'check the host and port, and that the server is listening' };
}
