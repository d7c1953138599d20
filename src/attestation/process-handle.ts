import { closeSync } from 'node:fs';
import type net from 'node:net';
import { MeshidError } from '../common/errors';
import { native, socketFd } from './peer-credentials';

/**
 * A pidfd on the process that connected: while it is open, "is this still the connecting process,
 * and is it alive?" is a kernel fact rather than a comparison of /proc start times (pidfd_open(2)).
 *
 * SO_PEERPIDFD (Linux 6.5) names the process the kernel recorded at connect(2), so even a pid that
 * was reused between connect and accept cannot be mistaken for the connector. Older kernels fall
 * back to pidfd_open(pid) at accept (the caller then compares start times, as before); without
 * pidfds at all (Linux < 5.3) there is no handle and the start-time check stands alone.
 */
export class ProcessHandle {
  /** Whether this kernel answers PIDFD_GET_INFO (Linux 6.13); learnt from the first ask. */
  private static credentialsSupported: boolean | undefined;
  private closed = false;

  private constructor(private readonly pidfd: number) {}

  /**
   * Opens a handle on the socket's connector, or returns undefined where the kernel offers none.
   * Throws PEER_UNVERIFIED when the kernel says the connector is already gone (ESRCH).
   */
  static forConnector(socket: net.Socket, pid: number): ProcessHandle | undefined {
    const fd = socketFd(socket);
    const addon = native();
    try {
      return new ProcessHandle(addon.peerPidfd(fd));
    } catch (error) {
      if (isCode(error, 'ESRCH')) throw gone(pid);
      if (!isCode(error, 'ENOPROTOOPT') && !isCode(error, 'EINVAL')) throw unverified(error);
    }
    try {
      return new ProcessHandle(addon.pidfdOpen(pid));
    } catch (error) {
      if (isCode(error, 'ESRCH')) throw gone(pid);
      if (isCode(error, 'ENOSYS')) return undefined;
      throw unverified(error);
    }
  }

  /** True once the process has terminated, whether a zombie or already reaped. */
  exited(): boolean {
    if (this.closed) return true;
    return native().pidfdExited(this.pidfd);
  }

  /**
   * The process's ids, in proc(5) status order: uids then gids, each real, effective, saved,
   * filesystem. Undefined where the kernel has no PIDFD_GET_INFO (the caller reads /proc).
   * Throws PEER_UNVERIFIED once the process is gone (ESRCH).
   */
  credentials(): { uids: number[]; gids: number[] } | undefined {
    if (ProcessHandle.credentialsSupported === false || this.closed) return undefined;
    let ids: number[];
    try {
      ids = native().pidfdCredentials(this.pidfd);
    } catch (error) {
      if (isCode(error, 'ESRCH')) throw new MeshidError('PEER_UNVERIFIED', 'connecting process has exited');
      if (isCode(error, 'ENOTTY') || isCode(error, 'EINVAL')) {
        ProcessHandle.credentialsSupported = false;
        return undefined;
      }
      throw unverified(error);
    }
    ProcessHandle.credentialsSupported = true;
    return { uids: ids.slice(0, 4), gids: ids.slice(4, 8) };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.pidfd);
  }
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}

function gone(pid: number): MeshidError {
  return new MeshidError('PEER_UNVERIFIED', `connecting process ${pid} exited before it could be attested`);
}

function unverified(error: unknown): MeshidError {
  return new MeshidError('PEER_UNVERIFIED', `cannot pin the connecting process: ${(error as Error).message}`, { cause: error });
}
