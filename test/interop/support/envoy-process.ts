import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { peerAvailable, peerPath } from '../../support/peers';
import { eventually } from '../../support/rotation-traffic';

/** The Envoy binary .ci/install-peers puts in the peers cache; a missing one fails the test. */
export function envoyBinary(): string {
  if (!peerAvailable('envoy')) throw new Error(`Envoy is not installed at ${peerPath('envoy')}: run .ci/install-peers (or set MESHID_PEERS_DIR)`);
  return peerPath('envoy');
}

/** One certificate as Envoy's admin /certs lists it (admin/v3/certs.proto CertificateDetails). */
export interface EnvoyCertificate {
  readonly serial_number: string;
  readonly subject_alt_names?: readonly { readonly uri?: string; readonly dns?: string }[];
  readonly expiration_time?: string;
}

interface CertsResponse {
  readonly certificates?: readonly { readonly ca_cert?: readonly EnvoyCertificate[]; readonly cert_chain?: readonly EnvoyCertificate[] }[];
}

/** Serials compare as numbers: Envoy and meshid may differ in case and leading zeros. */
export function normalSerial(serial: string): string {
  return serial.toLowerCase().replace(/^0+/, '');
}

/** How much of an Envoy's log to keep for failure messages. */
const LOG_TAIL = 400;

/**
 * A real Envoy under its own uid, so that meshid attests it by the kernel credentials of its
 * SDS connection. Hot restart is disabled: no shared memory region, so parallel Envoys cannot
 * collide on a base id (envoyproxy.io "Command line options": --disable-hot-restart).
 */
export class EnvoyProcess {
  private readonly log: string[] = [];
  private child: ChildProcess | undefined;

  constructor(
    readonly name: string,
    readonly uid: number,
    readonly adminPort: number,
    private readonly configFile: string,
  ) {}

  static async start(name: string, uid: number, adminPort: number, dir: string, config: object): Promise<EnvoyProcess> {
    const configFile = path.join(dir, `${name}.json`);
    await writeFile(configFile, JSON.stringify(config, null, 2));
    await chmod(configFile, 0o644);
    const envoy = new EnvoyProcess(name, uid, adminPort, configFile);
    await envoy.spawn();
    return envoy;
  }

  private async spawn(): Promise<void> {
    // MESHID_ENVOY_LOG=config:debug,secret:debug shows the xDS exchange while debugging a test.
    const child = spawn(envoyBinary(), ['-c', this.configFile, '--disable-hot-restart', '--concurrency', '1', '-l', 'info', '--component-log-level', process.env.MESHID_ENVOY_LOG ?? 'upstream:warn,main:warn'], {
      uid: this.uid,
      gid: this.uid,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (chunk: Buffer): void => {
      this.log.push(...chunk.toString().split('\n').filter((line) => line !== ''));
      this.log.splice(0, Math.max(0, this.log.length - LOG_TAIL));
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await once(child, 'spawn');
  }

  /** The last lines Envoy logged, for assertion messages. */
  logTail(lines = 30): string {
    return `--- ${this.name} (uid ${this.uid}) log ---\n${this.log.slice(-lines).join('\n')}`;
  }

  /** Whether Envoy logged a line matching `pattern` (among the last LOG_TAIL lines). */
  logged(pattern: RegExp): boolean {
    return this.log.some((line) => pattern.test(line));
  }

  async admin(pathAndQuery: string): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${this.adminPort}${pathAndQuery}`);
    return response.text();
  }

  /** GET /certs: every certificate Envoy holds, chains (leaf first) and CA certificates. */
  async certs(): Promise<{ chains: EnvoyCertificate[]; cas: EnvoyCertificate[] }> {
    const parsed = JSON.parse(await this.admin('/certs')) as CertsResponse;
    const contexts = parsed.certificates ?? [];
    return { chains: contexts.flatMap((context) => context.cert_chain ?? []), cas: contexts.flatMap((context) => context.ca_cert ?? []) };
  }

  /** The serials of the leaf certificates carrying `spiffeId` that Envoy holds now. */
  async leafSerials(spiffeId: string): Promise<Set<string>> {
    const { chains } = await this.certs();
    return new Set(chains.filter((cert) => cert.subject_alt_names?.some((san) => san.uri === spiffeId)).map((cert) => normalSerial(cert.serial_number)));
  }

  /** GET /stats as name → value (counters and gauges; histograms are skipped). */
  async stats(filter?: string): Promise<Map<string, number>> {
    const text = await this.admin(`/stats${filter ? `?filter=${encodeURIComponent(filter)}` : ''}`);
    const stats = new Map<string, number>();
    for (const line of text.split('\n')) {
      const match = /^(\S+): (\d+)$/.exec(line);
      if (match?.[1] && match[2]) stats.set(match[1], Number(match[2]));
    }
    return stats;
  }

  /** Sum of every stat whose name matches `pattern`. */
  async statSum(pattern: RegExp): Promise<number> {
    let sum = 0;
    for (const [name, value] of await this.stats()) if (pattern.test(name)) sum += value;
    return sum;
  }

  /** Waits until Envoy's server is LIVE (init done: every static secret fetched or timed out). */
  async ready(): Promise<void> {
    try {
      await eventually(
        async () => {
          if (this.child?.exitCode !== null) throw new Error(`exited with ${String(this.child?.exitCode)}`);
          return (await this.admin('/ready').catch(() => '')).trim() === 'LIVE';
        },
        'LIVE',
        30_000,
      );
    } catch (error) {
      throw new Error(`${this.name} did not become ready: ${(error as Error).message}\n${this.logTail()}`, { cause: error });
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}

/** `envoy --mode validate -c FILE`: exit code and output (Envoy checks the config, starts nothing). */
export async function validateConfig(configFile: string, uid: number): Promise<{ code: number | null; output: string }> {
  const child = spawn(envoyBinary(), ['--mode', 'validate', '-c', configFile, '--disable-hot-restart', '-l', 'warn'], { uid, gid: uid, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}
