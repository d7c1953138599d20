import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';

/**
 * File descriptors kept free for the agent itself (issue 14, "Keep fds in reserve"). Every
 * accepted connection costs two fds (the socket and the connector's pidfd); without headroom a
 * flood of connections from one uid used every fd up to RLIMIT_NOFILE, after which the admin
 * server could not accept /live, the listener could not accept anyone, and nothing was logged.
 *
 * - Headroom: a connection that would leave fewer than `reserve` fds free is refused at accept
 *   (closed at once, so the client sees an immediate close instead of a hang), counted as
 *   `fd_limit`, before any pidfd is opened.
 * - Held reserve: `held` fds are opened on /dev/null at start (the classic "reserve fd" trick).
 *   If the process runs out of fds anyway (a leak elsewhere, another listener), they are closed
 *   so the admin server and the accept loop can still take a connection, and taken again once
 *   fds are free. (libuv's own emfile trick drains the accept queue meanwhile: it accepts and
 *   closes, so clients are not left hanging.)
 */
export class FdHeadroom {
  private readonly heldFds: number[] = [];
  /** Fds open when the listener started (the agent's own: files, watches, the listen socket). */
  private readonly baseline: number;

  constructor(
    readonly limit: number,
    readonly reserve: number,
    private readonly held: number,
  ) {
    this.baseline = countOpenFds();
    this.acquire();
  }

  /** Fds a connection may take: the limit minus what the agent had at start, the held and the free reserve. */
  admits(openConnections: number): boolean {
    return this.baseline + this.held + 2 * (openConnections + 1) + this.reserve <= this.limit;
  }

  /** Whether one more fd can be opened now (opens and closes /dev/null). */
  static canOpen(): boolean {
    try {
      closeSync(openSync('/dev/null', 'r'));
      return true;
    } catch {
      return false;
    }
  }

  /** Gives the held fds back to the process (it ran out); acquire() takes them again. */
  release(): void {
    for (const fd of this.heldFds.splice(0)) closeSync(fd);
  }

  /** Takes the held fds (again); true when all are held. */
  acquire(): boolean {
    try {
      while (this.heldFds.length < this.held) this.heldFds.push(openSync('/dev/null', 'r'));
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    this.release();
  }
}

/** The soft RLIMIT_NOFILE (Linux /proc/self/limits), or undefined if unlimited or unreadable. */
export function openFileLimit(): number | undefined {
  try {
    const line = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    const limit = Number(line);
    return Number.isFinite(limit) && limit > 0 ? limit : undefined;
  } catch {
    return undefined;
  }
}

function countOpenFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}
