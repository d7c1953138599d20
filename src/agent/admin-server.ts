import http from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { isLoopbackHost } from '../common/loopback';
import type { Logger } from 'pino';
import type { RotationRequestResult } from '../rotation/root-rotation';
import type { RotationStatus } from '../rotation/root-rotation-status';
import type { SvidStore } from '../rotation/svid-store';
import type { AgentMetrics } from '../telemetry/agent-metrics';
import type { StreamTracker } from '../telemetry/stream-tracker';

export interface AdminServerOptions {
  readonly host: string;
  readonly port: number;
  readonly metrics: AgentMetrics;
  readonly store: SvidStore;
  readonly streams: StreamTracker;
  /** undefined while the agent can accept connections, else why not (/live answers 503 with it). */
  readonly notLiveReason?: () => string | undefined;
  /** undefined when ready, else why not (shown in /ready's body). */
  readonly notReadyReason: () => string | undefined;
  readonly logger: Logger;
  /** Root rotation: GET /ca/rotation shows it, POST /ca/rotate starts one. */
  readonly rotation?: { status(): RotationStatus; request(): Promise<RotationRequestResult> };
}

/**
 * Plain HTTP for probes and Prometheus: /live, /ready, /metrics, /debug/svids. It never serves
 * key material, and listens on loopback unless the operator configures another address (which
 * needs admin.allowRemote: true). Every endpoint checks the Host header (hostAllowed), so a web
 * page whose DNS name is rebound to 127.0.0.1 cannot read IDs, serials or root fingerprints.
 */
export class AdminServer {
  private constructor(
    private readonly server: http.Server,
    readonly address: string,
  ) {}

  static async listen(options: AdminServerOptions): Promise<AdminServer> {
    const server = http.createServer((request, response) => {
      if (!hostAllowed(request.headers.host, options.host)) {
        response.writeHead(403, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        response.end(`${JSON.stringify({ error: 'Host header not accepted: use localhost, a loopback address or the admin.listen address (DNS rebinding protection)' })}\n`);
        return;
      }
      route(options, request, new URL(request.url ?? '/', 'http://admin').pathname).then(
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

async function route(options: AdminServerOptions, request: http.IncomingMessage, pathname: string): Promise<Reply> {
  const method = request.method ?? 'GET';
  if (pathname === '/ca/rotate' && options.rotation) return method === 'POST' ? rotate(options.rotation, request) : json(405, { error: 'only POST' });
  if (method !== 'GET' && method !== 'HEAD') return json(405, { error: 'only GET' });
  switch (pathname) {
    case '/ca/rotation':
      return options.rotation ? json(200, options.rotation.status()) : json(404, { error: 'root rotation is not available' });
    case '/live': {
      // Out of fds the agent serves nobody; failing /live lets a supervisor restart it.
      const reason = options.notLiveReason?.();
      return reason === undefined ? json(200, { status: 'live' }) : json(503, { status: 'not live', reason });
    }
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
      return json(404, { error: `no such endpoint; try /live, /ready, /metrics, /debug/svids, /ca/rotation` });
  }
}

const STATUS_BY_REFUSAL = { 'in-progress': 409, unchanged: 409, invalid: 422 } as const;

/**
 * POST /ca/rotate changes what every workload trusts, so only a local operator may call it: the
 * request must come over loopback, name a loopback host (a DNS-rebound web page names its own),
 * and carry a JSON content type (a cross-site form cannot send one without a CORS preflight,
 * which this server never grants).
 */
async function rotate(rotation: NonNullable<AdminServerOptions['rotation']>, request: http.IncomingMessage): Promise<Reply> {
  if (!isLoopback(request.socket.remoteAddress) || !isLoopbackHost(hostName(request.headers.host) ?? '')) return json(403, { error: 'POST /ca/rotate is accepted only from loopback (run meshid ca rotate on the node)' });
  if (!/^application\/json\b/.test(request.headers['content-type'] ?? '')) return json(415, { error: 'send Content-Type: application/json' });
  request.resume(); // the body carries nothing
  const result = await rotation.request();
  return result.outcome === 'started' ? json(202, result.status) : json(STATUS_BY_REFUSAL[result.reason], { error: result.message, reason: result.reason });
}

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || /^(::ffff:)?127\./.test(address));
}

/** The host part of a Host header (RFC 9110 §7.2: uri-host [":" port]); undefined when absent. */
function hostName(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  const bracketed = /^\[([^\]]+)\](?::\d*)?$/.exec(header);
  if (bracketed) return bracketed[1];
  return header.replace(/:\d*$/, '');
}

/**
 * DNS rebinding defence (issue 14, finding 12): a browser sends the attacker's DNS name as Host
 * even once that name resolves to 127.0.0.1. Accepted: localhost and loopback addresses, the
 * configured listen host, and, when the server listens beyond loopback (admin.allowRemote), any
 * IP address literal — probes and scrapers address a node by IP, and an IP literal cannot be
 * rebound. A missing Host is refused (every HTTP/1.1 client and browser sends one).
 */
export function hostAllowed(header: string | undefined, listenHost: string): boolean {
  const name = hostName(header);
  if (name === undefined) return false;
  if (isLoopbackHost(name)) return true;
  const normalised = name.toLowerCase().replace(/\.$/, '');
  if (normalised === listenHost.toLowerCase()) return true;
  return !isLoopbackHost(listenHost) && isIP(normalised) !== 0;
}
