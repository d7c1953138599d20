import { chmod } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

export interface ReportSocket {
  readonly path: string;
  /** The next JSON line a process sent (each report is one connection). */
  next<T>(): Promise<T>;
  close(): Promise<void>;
}

/**
 * Where helper processes under other uids send their results. A socket rather than stdout: a
 * result may come from a grandchild that outlives the process the test spawned.
 */
export async function listenForReports(dir: string): Promise<ReportSocket> {
  const socketPath = path.join(dir, 'report.sock');
  const reports: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  const server = net.createServer((connection) => {
    let text = '';
    connection.on('data', (chunk: Buffer) => (text += chunk.toString()));
    connection.on('end', () => {
      const waiter = waiters.shift();
      if (waiter) waiter(text.trim());
      else reports.push(text.trim());
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  await chmod(socketPath, 0o777);
  return {
    path: socketPath,
    next<T>() {
      const ready = reports.shift();
      const line = ready !== undefined ? Promise.resolve(ready) : new Promise<string>((resolve) => waiters.push(resolve));
      return line.then((text) => JSON.parse(text) as T);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
