import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import pino from 'pino';
import { PeerRegistry, type PeerIdentity } from '../../src/attestation/peer-identity';
import { SocketListener } from '../../src/serving/socket-listener';

const logger = pino({ level: 'silent' });
const listeners: SocketListener[] = [];
after(async () => {
  for (const listener of listeners) await listener.close();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshid-listener-'));
  await chmod(dir, 0o755);
  return dir;
}

/** Records the identity the registry holds for each injected connection, then closes it. */
function recordingSink(peers: PeerRegistry, seen: PeerIdentity[]) {
  return {
    injectConnection(socket: net.Socket) {
      const identity = peers.lookup(socket.remoteAddress ?? '');
      if (identity) seen.push(identity);
      socket.end();
    },
  };
}

test('identity of a client under another uid comes from the kernel, and the socket is 0777', async () => {
  const dir = await tempDir();
  const socketPath = path.join(dir, 'nested', 'agent.sock');
  const peers = new PeerRegistry();
  const seen: PeerIdentity[] = [];
  listeners.push(await SocketListener.listen({ socketPath, procRoot: '/proc', peers, sink: recordingSink(peers, seen), logger }));
  assert.equal((await stat(socketPath)).mode & 0o777, 0o777);

  const child = spawn(process.execPath, ['-e', `const s=require('net').connect(${JSON.stringify(socketPath)});s.on('data',()=>{});s.on('end',()=>process.exit(0));s.on('error',()=>process.exit(3));`], { uid: 1000, gid: 1000, stdio: 'ignore' });
  const exitCode = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(exitCode, 0);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]?.uid, 1000);
  assert.equal(seen[0]?.gid, 1000);
  assert.equal(seen[0]?.pid, child.pid);
  assert.ok(seen[0]?.handle, 'a pidfd pins the connector (SO_PEERPIDFD)');
  // The pidfd answers "same process?" at every call, so /proc/<pid>/stat is not read at accept.
  assert.equal(seen[0]?.process?.startTime, undefined);
  assert.deepEqual(seen[0]?.process?.ids.uids, [1000, 1000, 1000, 1000]);
});

test('a stale socket file is replaced', async () => {
  const dir = await tempDir();
  const socketPath = path.join(dir, 'agent.sock');
  // A socket nobody listens on any more: a process that was killed while listening leaves it behind.
  const crashed = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  await new Promise((resolve) => crashed.on('exit', resolve));
  assert.ok((await stat(socketPath)).isSocket());

  const peers = new PeerRegistry();
  listeners.push(await SocketListener.listen({ socketPath, procRoot: '/proc', peers, sink: recordingSink(peers, []), logger }));
  await new Promise<void>((resolve, reject) => net.connect(socketPath).once('connect', resolve).once('error', reject));
});

test('a live server on the socket makes a second agent refuse to start', async () => {
  const dir = await tempDir();
  const socketPath = path.join(dir, 'agent.sock');
  const peers = new PeerRegistry();
  listeners.push(await SocketListener.listen({ socketPath, procRoot: '/proc', peers, sink: recordingSink(peers, []), logger }));
  await assert.rejects(
    SocketListener.listen({ socketPath, procRoot: '/proc', peers, sink: recordingSink(peers, []), logger }),
    /another process is already serving/,
  );
});

test('a regular file at the socket path is not deleted', async () => {
  const dir = await tempDir();
  const socketPath = path.join(dir, 'agent.sock');
  await writeFile(socketPath, 'precious');
  await assert.rejects(
    SocketListener.listen({ socketPath, procRoot: '/proc', peers: new PeerRegistry(), sink: recordingSink(new PeerRegistry(), []), logger }),
    /not a socket/,
  );
});
