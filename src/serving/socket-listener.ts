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
  /** A connection refused at accept because a cap was reached. */
  onRefused(refusal: Refusal, uid: number): void;
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

/**
 * The agent's unix socket. Every accepted connection is held paused until its peer credentials
 * are read and recorded, then injected into grpc-js; identity is therefore known before the first
 * byte of any request is read.
 */
export class SocketListener {
  private readonly server: net.Server;
  private readonly open = new Set<net.Socket>();
  private readonly counter: ConnectionCounter | undefined;

  private constructor(private readonly options: SocketListenerOptions) {
    this.counter = options.policy ? new ConnectionCounter(options.policy.limits) : undefined;
    this.server = net.createServer({ pauseOnConnect: true }, (socket) => void this.accept(socket));
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
