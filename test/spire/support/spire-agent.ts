import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { peerAvailable, peerPath } from '../../support/peers';
import type { SpireServer } from './spire-server';

const run = promisify(execFile);

/**
 * A real spire-agent v1.13.3 beside meshid on the same server: join_token attestation, the unix
 * workload attestor, its Workload API socket in its own dir. A missing binary fails the test.
 */
export class SpireAgent {
  readonly log: string[] = [];
  private constructor(
    private readonly child: ChildProcess,
    readonly socketPath: string,
  ) {}

  static async start(server: SpireServer, dir: string, token: string): Promise<SpireAgent> {
    if (!peerAvailable('spire-agent')) throw new Error(`spire-agent not found at ${peerPath('spire-agent')}: run .ci/install-peers (or set MESHID_PEERS_DIR)`);
    await mkdir(path.join(dir, 'data'), { recursive: true });
    const socketPath = path.join(dir, 'agent.sock');
    const bundleFile = path.join(dir, 'bootstrap.pem');
    await writeFile(bundleFile, await server.bundlePem());
    const configFile = path.join(dir, 'agent.conf');
    await writeFile(
      configFile,
      `agent {
  data_dir = "${path.join(dir, 'data')}"
  log_level = "DEBUG"
  server_address = "127.0.0.1"
  server_port = "${server.port}"
  socket_path = "${socketPath}"
  trust_bundle_path = "${bundleFile}"
  trust_domain = "${server.trustDomain}"
  join_token = "${token}"
}
plugins {
  NodeAttestor "join_token" {
    plugin_data {}
  }
  KeyManager "memory" {
    plugin_data {}
  }
  WorkloadAttestor "unix" {
    plugin_data {}
  }
}
`,
    );
    const child = spawn(peerPath('spire-agent'), ['run', '-config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    const agent = new SpireAgent(child, socketPath);
    const keep = (chunk: Buffer): void => {
      agent.log.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`spire-agent exited with ${child.exitCode}:\n${agent.log.slice(-20).join('\n')}`);
      try {
        await run(peerPath('spire-agent'), ['healthcheck', '-socketPath', socketPath], { timeout: 10_000 });
        return agent;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`spire-agent did not become healthy:\n${agent.log.slice(-20).join('\n')}`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
