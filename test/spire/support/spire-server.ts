import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { peerAvailable, peerPath } from '../../support/peers';

const run = promisify(execFile);

export interface SpireServerOptions {
  readonly dir: string;
  readonly trustDomain?: string;
  /** The server CA's lifetime (SPIRE's ca_ttl); short values make it rotate during a test. */
  readonly caTtl?: string;
  readonly svidTtl?: string;
  /** Lifetime of agent SVIDs (SPIRE's agent_ttl; default: the CA's). */
  readonly agentTtl?: string;
}

/** A free TCP port on loopback (bound, read, released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * A real spire-server v1.13.3 on loopback with SQLite, join_token node attestation and an
 * in-memory key manager, in its own temp dir. A missing binary fails the test: the spire tests
 * exist to run against the real server.
 */
export class SpireServer {
  private child: ChildProcess | undefined;
  readonly log: string[] = [];
  readonly trustDomain: string;
  readonly address: string;
  private readonly socketPath: string;
  private readonly configFile: string;

  private constructor(
    private readonly options: SpireServerOptions,
    readonly port: number,
  ) {
    this.trustDomain = options.trustDomain ?? 'example.org';
    this.address = `127.0.0.1:${port}`;
    this.socketPath = path.join(options.dir, 'api.sock');
    this.configFile = path.join(options.dir, 'server.conf');
  }

  static async start(options: SpireServerOptions): Promise<SpireServer> {
    if (!peerAvailable('spire-server')) throw new Error(`spire-server not found at ${peerPath('spire-server')}: run .ci/install-peers (or set MESHID_PEERS_DIR)`);
    const server = new SpireServer(options, await freePort());
    await server.writeConfig();
    await server.launch();
    return server;
  }

  private async writeConfig(): Promise<void> {
    const { dir } = this.options;
    await mkdir(path.join(dir, 'data'), { recursive: true });
    await writeFile(
      this.configFile,
      `server {
  bind_address = "127.0.0.1"
  bind_port = "${this.port}"
  socket_path = "${this.socketPath}"
  trust_domain = "${this.trustDomain}"
  data_dir = "${path.join(dir, 'data')}"
  log_level = "DEBUG"
  ca_ttl = "${this.options.caTtl ?? '24h'}"
  default_x509_svid_ttl = "${this.options.svidTtl ?? '1h'}"
${this.options.agentTtl ? `  agent_ttl = "${this.options.agentTtl}"\n` : ''}  experimental {
    # The authorized-entry cache is refreshed every 5 s by default; 1 s keeps tests short.
    cache_reload_interval = "1s"
  }
}
plugins {
  DataStore "sql" {
    plugin_data {
      database_type = "sqlite3"
      connection_string = "${path.join(dir, 'data', 'datastore.sqlite3')}"
    }
  }
  NodeAttestor "join_token" {
    plugin_data {}
  }
  KeyManager "disk" {
    plugin_data {
      keys_path = "${path.join(dir, 'data', 'keys.json')}"
    }
  }
}
`,
    );
  }

  /** Starts the process and waits until its API answers (spire-server healthcheck). */
  async launch(): Promise<void> {
    const child = spawn(peerPath('spire-server'), ['run', '-config', this.configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = (chunk: Buffer): void => {
      this.log.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      if (this.log.length > 2000) this.log.splice(0, this.log.length - 2000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`spire-server exited with ${child.exitCode}:\n${this.log.slice(-20).join('\n')}`);
      try {
        await this.cli('healthcheck');
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`spire-server did not become healthy: ${(error as Error).message}\n${this.log.slice(-20).join('\n')}`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** Stops the process (SIGTERM, then SIGKILL); its data dir stays for a restart. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  /** `spire-server <command> -socketPath … <args>`; resolves with stdout. */
  async cli(command: string, ...args: string[]): Promise<string> {
    const [first, ...rest] = command.split(' ');
    const { stdout } = await run(peerPath('spire-server'), [first ?? command, ...rest, '-socketPath', this.socketPath, ...args], { timeout: 20_000 });
    return stdout;
  }

  /** A join token for `spiffe://<td>/spire/agent/join_token/<token>`, and that agent ID. */
  async joinToken(): Promise<{ token: string; agentId: string }> {
    const out = await this.cli('token generate');
    const token = /Token:\s*(\S+)/.exec(out)?.[1];
    if (!token) throw new Error(`no token in: ${out}`);
    return { token, agentId: `spiffe://${this.trustDomain}/spire/agent/join_token/${token}` };
  }

  /** `entry create`; returns the entry ID. */
  async createEntry(args: { parentId: string; spiffeId: string; selectors: string[]; downstream?: boolean; federatesWith?: string[]; dnsNames?: string[] }): Promise<string> {
    const flags = ['-parentID', args.parentId, '-spiffeID', args.spiffeId, ...args.selectors.flatMap((selector) => ['-selector', selector])];
    if (args.downstream) flags.push('-downstream');
    for (const td of args.federatesWith ?? []) flags.push('-federatesWith', td);
    for (const dns of args.dnsNames ?? []) flags.push('-dns', dns);
    const out = await this.cli('entry create', ...flags);
    const id = /Entry ID\s*:\s*(\S+)/.exec(out)?.[1];
    if (!id) throw new Error(`no entry ID in: ${out}`);
    return id;
  }

  async deleteEntry(id: string): Promise<void> {
    await this.cli('entry delete', '-entryID', id);
  }

  /** The bundle as PEM (`bundle show`), what an operator copies to bootstrapBundleFile. */
  bundlePem(): Promise<string> {
    return this.cli('bundle show');
  }
}
