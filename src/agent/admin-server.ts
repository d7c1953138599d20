import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { SvidStore } from '../rotation/svid-store';
import type { AgentMetrics } from '../telemetry/agent-metrics';
import type { StreamTracker } from '../telemetry/stream-tracker';

export interface AdminServerOptions {
  readonly host: string;
  readonly port: number;
  readonly metrics: AgentMetrics;
  readonly store: SvidStore;
  readonly streams: StreamTracker;
  /** undefined when ready, else why not (shown in /ready's body). */
  readonly notReadyReason: () => string | undefined;
  readonly logger: Logger;
}

/**
 * Plain HTTP for probes and Prometheus: /live, /ready, /metrics, /debug/svids. It never serves
 * key material, and listens on loopback unless the operator configures another address.
 */
export class AdminServer {
  private constructor(
    private readonly server: http.Server,
    readonly address: string,
  ) {}

  static async listen(options: AdminServerOptions): Promise<AdminServer> {
    const server = http.createServer((request, response) => {
      route(options, request.method ?? 'GET', new URL(request.url ?? '/', 'http://admin').pathname).then(
        ({ status, type, body }) => {
          response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
          response.end(body);
        },
        (error: unknown) => {
          options.logger.error({ err: error }, 'admin request failed');
          response.writeHead(500, { 'content-type': 'application/json' });
          response.end('{"error":"internal error"}\n');
        },
      );
    });
    // Probes and scrapes are short; don't let an idle client hold a socket for long.
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = server.address() as AddressInfo;
    const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
    return new AdminServer(server, `${host}:${bound.port}`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

interface Reply {
  status: number;
  type: string;
  body: string;
}

const json = (status: number, value: unknown): Reply => ({ status, type: 'application/json', body: `${JSON.stringify(value, null, 2)}\n` });

async function route(options: AdminServerOptions, method: string, pathname: string): Promise<Reply> {
  if (method !== 'GET' && method !== 'HEAD') return json(405, { error: 'only GET' });
  switch (pathname) {
    case '/live':
      return json(200, { status: 'live' });
    case '/ready': {
      const reason = options.notReadyReason();
      return reason === undefined ? json(200, { status: 'ready' }) : json(503, { status: 'not ready', reason });
    }
    case '/metrics':
      return { status: 200, type: options.metrics.registry.contentType, body: await options.metrics.metricsText() };
    case '/debug/svids': {
      const streams = options.streams.countsBySpiffeId();
      const svids = options.store
        .list()
        .sort((a, b) => a.spiffeId.localeCompare(b.spiffeId))
        .map((svid) => ({
          spiffeId: svid.spiffeId,
          serial: svid.serialHex,
          notBefore: new Date(svid.notBeforeMs).toISOString(),
          notAfter: new Date(svid.notAfterMs).toISOString(),
          rotateAt: new Date(svid.rotateAtMs).toISOString(),
          openStreams: streams.get(svid.spiffeId) ?? 0,
        }));
      return json(200, { svids });
    }
    default:
      return json(404, { error: `no such endpoint; try /live, /ready, /metrics, /debug/svids` });
  }
}
