import path from 'node:path';
import type net from 'node:net';
import { MeshidError } from '../common/errors';

/** What the kernel says about the process on the other end of a unix socket. */
export interface PeerCredentials {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

interface NativeAddon {
  peerCredentials(fd: number): PeerCredentials;
  peerPidfd(fd: number): number;
  pidfdOpen(pid: number): number;
  pidfdExited(pidfd: number): boolean;
  pidfdCredentials(pidfd: number): number[];
}

// Built by node-gyp during `npm ci` (binding.gyp). Loaded lazily so commands that never accept
// connections (config checks, `api fetch`) work even where the addon failed to build.
let addon: NativeAddon | undefined;
export function native(): NativeAddon {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a native addon has no ES module form
  addon ??= require(path.join(__dirname, '..', '..', '..', 'build', 'Release', 'peer_credentials.node')) as NativeAddon;
  return addon;
}

/**
 * Reads SO_PEERCRED from an accepted unix socket. The credentials are those of the process that
 * called connect(2), captured by the kernel at that moment; nothing the client sends can change
 * them.
 */
export function readPeerCredentials(socket: net.Socket): PeerCredentials {
  const fd = socketFd(socket);
  try {
    return native().peerCredentials(fd);
  } catch (error) {
    throw new MeshidError('PEER_UNVERIFIED', `cannot read peer credentials: ${(error as Error).message}`, { cause: error });
  }
}

/** The kernel file descriptor of an accepted unix socket (libuv's pipe handle exposes it). */
export function socketFd(socket: net.Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new MeshidError('PEER_UNVERIFIED', 'accepted connection has no file descriptor to read peer credentials from');
  }
  return fd;
}
