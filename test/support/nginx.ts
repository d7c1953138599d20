import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

export const NGINX = '/usr/sbin/nginx';

/** A port nothing listens on right now (nginx cannot be told to pick one). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface NginxFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly bundleFile: string;
}

/**
 * A real nginx in the foreground, configured the way operators set up mTLS with meshid's files
 * (deploy/nginx/meshid-mtls.conf): ssl_verify_client on, the bundle as client CA, depth 2.
 */
export class NginxServer {
  private constructor(
    readonly confFile: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  static async start(dir: string, files: NginxFiles): Promise<NginxServer> {
    const port = await freePort();
    const confFile = path.join(dir, 'nginx.conf');
    await writeFile(
      confFile,
      `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port} ssl;
    server_name localhost;
    ssl_certificate ${files.certFile};
    ssl_certificate_key ${files.keyFile};
    ssl_client_certificate ${files.bundleFile};
    ssl_verify_client on;
    ssl_verify_depth 2;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 200 "hello $ssl_client_s_dn_legacy\\n"; }
  }
}
`,
    );
    const child = spawn(NGINX, ['-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const server = new NginxServer(confFile, port, child);
    await server.waitListening(() => `nginx did not start: ${stderr}`);
    return server;
  }

  /** The command meshid's afterWrite runs: a graceful reload that re-reads the certificate files. */
  get reloadCommand(): string {
    return `${NGINX} -c ${this.confFile} -s reload`;
  }

  private async waitListening(why: () => string): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt++) {
      if (this.child.exitCode !== null) throw new Error(why());
      const open = await new Promise<boolean>((resolve) => {
        const socket = net.connect(this.port, '127.0.0.1', () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      });
      if (open) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(why());
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGQUIT');
    await exited;
  }
}
