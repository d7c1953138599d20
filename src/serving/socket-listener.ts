import { randomUUID } from 'node:crypto';
import { mkdir, chmod, lstat, unlink } from 'node:fs/promises';
import type http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { MeshidError } from '../common/errors';
import type { Clock } from '../common/clock';
import { ConnectionCounter, type ConnectionLimits, type Refusal } from './connection-limits';
import { readConnectorSnapshot } from '../attestation/connector-snapshot';
import { readPeerCredentials, type PeerCredentials } from '../attestation/peer-credentials';
import type { PeerIdentity, PeerRegistry } from '../attestation/peer-identity';
import { ProcessHandle } from '../attestation/process-handle';
import { guardSession, type CloseReason } from './session-guard';
import { FdHeadroom, openFileLimit } from './fd-headroom';

/**
 * What the listener hands each accepted connection to (grpc-js's connection injector); it returns
 * the HTTP/2 session made of the connection, which the session guard then watches.
 */
export interface ConnectionSink {
  injectConnection(connection: net.Socket): http2.Http2Session | undefined | void;
}

/** Caps and timeouts for accepted connections (issue 14, "Connection hygiene"). */
export interface ConnectionPolicy {
  readonly clock: Clock;
  readonly limits: ConnectionLimits;
  /** A connection refused at accept because a cap, or the fd headroom, was reached. */
  onRefused(refusal: Refusal | 'fd_limit', uid: number): void;
  /** The listener could not accept (EMFILE, ENFILE from the kernel), or accepts again (undefined). */
  onAcceptHealth?(problem: string | undefined): void;
  /** A connection the agent closed (timeouts, a dead session). */
  onClosed(reason: CloseReason): void;
}

export interface SocketListenerOptions {
  readonly socketPath: string;
  readonly procRoot: string;
  readonly peers: PeerRegistry;
  readonly sink: ConnectionSink;
  readonly logger: Logger;
  /** Without one (unit tests of the listener), connections are neither capped nor timed out. */
  readonly policy?: ConnectionPolicy;
}

const LISTEN_BACKLOG = 4096;
/** Fds kept free beyond the connections' (fd-headroom.ts), and fds held open to give back on EMFILE. */
export const FD_RESERVE = 32;
export const FD_HELD = 8;
/** How often, while starved, the listener checks whether fds are free again. */
const STARVED_RECHECK_MS = 1_000;

/**
 * The agent's unix socket. Every accepted connection is held paused until its peer credentials
 * are read and recorded, then injected into grpc-js; identity is therefore known before the first
 * byte of any request is read.
 */
export class SocketListener {
  private readonly server: net.Server;
  private readonly open = new Set<net.Socket>();
  private readonly counter: ConnectionCounter | undefined;
  private readonly headroom: FdHeadroom | undefined;
  /** Why the listener cannot accept now (for /live), undefined while it can. */
  private starved: string | undefined;
  private recheck: { cancel(): void } | undefined;

  private constructor(private readonly options: SocketListenerOptions) {
    this.counter = options.policy ? new ConnectionCounter(options.policy.limits) : undefined;
    const limit = options.policy ? openFileLimit() : undefined;
    this.headroom = limit !== undefined ? new FdHeadroom(limit, FD_RESERVE, FD_HELD) : undefined;
    this.server = net.createServer({ pauseOnConnect: true }, (socket) => void this.accept(socket));
  }

  /** undefined while the listener can accept; else why not (GET /live answers 503 with it). */
  acceptProblem(): string | undefined {
    return this.starved;
  }

  /**
   * Out of fds (an accept error, or a connection refused for lack of headroom): give the held
   * fds back so the admin server can still answer, and check every second until fds are free.
   */
  private starve(problem: string): void {
    if (this.starved === undefined) {
      this.options.logger.error({ problem, limit: this.headroom?.limit, open: this.counter?.open }, 'cannot accept connections: out of file descriptors; /live fails until fds are free');
      this.options.policy?.onAcceptHealth?.(problem);
    }
    this.starved = problem;
    this.headroom?.release();
    this.armRecheck();
  }

  private armRecheck(): void {
    const clock = this.options.policy?.clock;
    if (!clock || this.recheck || this.closed) return;
    this.recheck = clock.setTimer(STARVED_RECHECK_MS, () => {
      this.recheck = undefined;
      const free = FdHeadroom.canOpen() && (this.headroom?.admits(this.counter?.open ?? 0) ?? true) && (this.headroom?.acquire() ?? true);
      if (!free) return this.armRecheck();
      this.starved = undefined;
      this.options.logger.warn({ open: this.counter?.open }, 'accepting connections again: file descriptors are free');
      this.options.policy?.onAcceptHealth?.(undefined);
    });
  }

  static async listen(options: SocketListenerOptions): Promise<SocketListener> {
    await prepareSocketPath(options.socketPath);
    const listener = new SocketListener(options);
    await new Promise<void>((resolve, reject) => {
      listener.server.once('error', reject);
      // The kernel's maximum (net.core.somaxconn, 4096 by default since Linux 5.4) instead of
      // Node's 511: a flood of connects from one uid fills the accept queue, and a connect to a
      // unix socket whose queue is full fails at once with EAGAIN for every other caller.
      listener.server.listen({ path: options.socketPath, backlog: LISTEN_BACKLOG }, () => {
        listener.server.off('error', reject);
        resolve();
      });
    });
    // Every local user may connect, as with SPIRE: access control is attestation, not file modes.
    await chmod(options.socketPath, 0o777);
    // After listen, an 'error' is a failed accept (EMFILE/ENFILE once libuv's own reserve fd is
    // spent); without a listener it would crash the agent.
    listener.server.on('error', (error: NodeJS.ErrnoException) => listener.starve(`accept failed: ${error.code ?? error.message}`));
    return listener;
  }

  private async accept(socket: net.Socket): Promise<void> {
    const { peers, logger, procRoot, policy } = this.options;
    let credentials: PeerCredentials;
    try {
      credentials = readPeerCredentials(socket);
    } catch (error) {
      logger.warn({ err: error }, 'rejected connection: peer credentials unavailable');
      socket.destroy();
      return;
    }
    // Caps are checked before anything is allocated for the connection (pidfd, /proc reads).
    if (this.headroom && !this.headroom.admits(this.counter?.open ?? 0)) {
      policy?.onRefused('fd_limit', credentials.uid);
      socket.destroy();
      this.starve(`open file limit ${this.headroom.limit} nearly reached (${this.counter?.open ?? 0} connections, ${FD_RESERVE} fds kept free)`);
      return;
    }
    const refusal = this.counter?.admit(credentials.uid);
    if (refusal) {
      policy?.onRefused(refusal, credentials.uid);
      socket.destroy();
      return;
    }
    const release = (): void => this.counter?.release(credentials.uid);
    let token: string | undefined;
    try {
      const identity = recordConnector(socket, credentials, procRoot);
      token = `meshid-peer:${randomUUID()}`;
      peers.register(token, identity);
      // grpc-js derives call.getPeer() from remoteAddress; see PeerRegistry for why this is safe.
      Object.defineProperty(socket, 'remoteAddress', { value: token, configurable: true });
    } catch (error) {
      logger.warn({ err: error }, 'rejected connection: peer credentials unavailable');
      release();
      socket.destroy();
      return;
    }
    const registered = token;
    this.open.add(socket);
    socket.once('close', () => {
      peers.unregister(registered);
      this.open.delete(socket);
      release();
    });
    if (socket.destroyed) return;
    const session = this.options.sink.injectConnection(socket);
    if (session && policy) guardSession(socket, session, policy.clock, policy.limits, policy.onClosed);
    socket.resume();
  }

  private closed: Promise<void> | undefined;

  /**
   * Stops accepting and removes the socket file; open connections carry on (graceful shutdown
   * lets their calls finish). Resolves once the socket file is gone.
   */
  async stopAccepting(): Promise<void> {
    if (!this.closed) {
      this.recheck?.cancel();
      this.recheck = undefined;
      this.headroom?.close();
      // net.Server's close callback fires only after every connection has ended.
      this.closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      await unlink(this.options.socketPath).catch(() => undefined);
    }
  }

  /** Stops accepting, removes the socket file and drops every connection still open. */
  async close(): Promise<void> {
    await this.stopAccepting();
    for (const socket of this.open) socket.destroy();
    await this.closed;
  }
}

/**
 * What the kernel says about the connector at accept: SO_PEERCRED, a pidfd pinning the process
 * (SO_PEERPIDFD), and /proc/<pid> read once. A connector already gone is still accepted, so that
 * its calls get a clear UNAUTHENTICATED (connector-binding.ts) instead of a dropped connection.
 * Only unreadable peer credentials refuse the connection itself.
 */
function recordConnector(socket: net.Socket, credentials: PeerCredentials, procRoot: string): PeerIdentity {
  let handle: ProcessHandle | undefined;
  try {
    handle = ProcessHandle.forConnector(socket, credentials.pid);
  } catch {
    return { ...credentials, process: undefined, handle: undefined };
  }
  try {
    return { ...credentials, process: readConnectorSnapshot(procRoot, credentials.pid, handle !== undefined), handle };
  } catch (error) {
    handle?.close();
    throw error;
  }
}

/**
 * Creates the socket's directory, and removes a stale socket left by a previous run — but only if
 * nothing answers on it: a live agent on the same path means a second agent must not start.
 */
async function prepareSocketPath(socketPath: string): Promise<void> {
  await mkdir(path.dirname(socketPath), { recursive: true, mode: 0o755 });
  const existing = await lstat(socketPath).catch(() => undefined);
  if (!existing) return;
  if (!existing.isSocket()) {
    throw new MeshidError('SOCKET_IN_USE', `${socketPath} exists and is not a socket; refusing to replace it`);
  }
  if (await isServing(socketPath)) {
    throw new MeshidError('SOCKET_IN_USE', `another process is already serving on ${socketPath}; stop it or choose another socketPath`);
  }
  await unlink(socketPath);
}

function isServing(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
