import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';

/** The real nginx binary: on PATH, or Debian's /usr/sbin (not on a non-root user's PATH). */
export function findNginx(): string | undefined {
  const onPath = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  return existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : undefined;
}

/**
 * A self-contained nginx.conf around `serverBlockFile`: every path nginx writes (pid, logs,
 * temp dirs) inside `dir`, one process in the foreground, so a test can run it as any user and
 * stop it by its pid; `modules` are loaded first.
 */
export async function writeNginxConf(dir: string, serverBlockFile: string, options: { readonly modules?: readonly string[] } = {}): Promise<string> {
  const temp = path.join(dir, 'temp');
  await mkdir(temp, { recursive: true });
  const conf = path.join(dir, 'nginx.conf');
  // Dynamic modules (e.g. njs) as Debian's nginx.conf loads them from modules-enabled.
  const modules = (options.modules ?? []).map((module) => `load_module ${module};\n`).join('');
  await writeFile(
    conf,
    `${modules}daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  include ${serverBlockFile};
}
`,
  );
  return conf;
}

/** nginx's arguments for a config in `dir`: prefix and early error log there too. */
export function nginxArgs(dir: string, conf: string): string[] {
  return ['-p', `${dir}/`, '-e', path.join(dir, 'error.log'), '-c', conf];
}

/** Starts nginx and resolves once its unix-socket listener accepts; rejects if nginx exits. */
export async function startNginx(nginx: string, dir: string, conf: string, socketPath: string): Promise<ChildProcess> {
  const child = spawn(nginx, nginxArgs(dir, conf), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`nginx exited (${code}) before listening:\n${stderr}`))));
  exited.catch(() => undefined); // an exit after start-up is the caller's business, not an unhandled rejection
  // A bound against a hang, not a timing under test: nginx normally listens within milliseconds.
  const deadline = Date.now() + 10_000;
  while (!(await Promise.race([accepts(socketPath), exited]))) {
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not listen on ${socketPath} within 10 s:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return child;
}

/** Stops an nginx started by startNginx and waits until it is gone. */
export async function stopNginx(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await gone;
}

function accepts(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
