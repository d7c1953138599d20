import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the backend saw it. */
export interface SeenRequest {
  readonly path: string;
  /** The SPIFFE ID in x-forwarded-client-cert's URI element, if any. */
  readonly clientId: string | undefined;
}

/**
 * The URI element of an x-forwarded-client-cert value (`By=…;Hash=…;URI=spiffe://…`).
 * Several comma-separated elements would mean several proxies; the last one is the nearest.
 */
export function xfccUri(header: string | undefined): string | undefined {
  const nearest = header?.split(',').pop();
  const pair = nearest?.split(';').find((part) => part.startsWith('URI='));
  return pair?.slice('URI='.length);
}

/**
 * The application behind the server Envoy: answers 200 only when x-forwarded-client-cert names
 * the expected client SPIFFE ID (403 otherwise, so a wrong identity counts as a failed request),
 * and records every request that reached it.
 */
export class XfccBackend {
  readonly seen: SeenRequest[] = [];
  private readonly server: http.Server;

  private constructor(expectedClientIds: readonly string[]) {
    this.server = http.createServer((request, response) => {
      const clientId = xfccUri(request.headers['x-forwarded-client-cert'] as string | undefined);
      this.seen.push({ path: request.url ?? '', clientId });
      const ok = clientId !== undefined && expectedClientIds.includes(clientId);
      response.writeHead(ok ? 200 : 403, { 'content-type': 'text/plain' });
      response.end(ok ? `hello ${clientId}` : `x-forwarded-client-cert names ${String(clientId)}, not ${expectedClientIds.join(' or ')}`);
    });
  }

  /** A backend answering 200 to any of `expectedClientIds`. */
  static async start(...expectedClientIds: string[]): Promise<XfccBackend> {
    const backend = new XfccBackend(expectedClientIds);
    await new Promise<void>((resolve) => backend.server.listen(0, '127.0.0.1', resolve));
    return backend;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
