import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const running = new Set<ChildProcess>();

/**
 * Starts `file args` under `uid` (gid = uid) and resolves once it has been exec'd, so
 * /proc/<pid>/exe already names `file`. Stop everything started here with stopSpawned().
 */
export async function spawnAs(uid: number, file: string, args: string[]): Promise<ChildProcess & { pid: number }> {
  const child = spawn(file, args, { uid, gid: uid, stdio: 'ignore' });
  running.add(child);
  child.once('exit', () => running.delete(child));
  await once(child, 'spawn');
  if (child.pid === undefined) throw new Error(`${file} did not start`);
  return child as ChildProcess & { pid: number };
}

export async function stopSpawned(): Promise<void> {
  await Promise.all(
    [...running].map(async (child) => {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }),
  );
}
