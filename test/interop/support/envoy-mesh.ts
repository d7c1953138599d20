import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AgentProcesses } from '../../support/meshid-cli';
import { freePort } from '../../support/nginx';
import { makeTempDir } from '../../support/temp-dir';
import { clientSidecar, serverSidecar, type SdsApiType } from './envoy-bootstrap';
import { EnvoyProcess } from './envoy-process';
import { XfccBackend } from './xfcc-backend';

export const TRUST_DOMAIN = 'spiffe://example.org';
export const CLIENT_ID = 'spiffe://example.org/client';
export const SERVER_ID = 'spiffe://example.org/server';
export const INTRUDER_ID = 'spiffe://example.org/intruder';
/** Each Envoy runs under its own uid; meshid's entries map the uid to the SPIFFE ID. */
export const UIDS = { client: 1101, server: 1102, intruder: 1103 } as const;

/** A client Envoy → server Envoy path; the label prefixes the request paths the backend sees. */
export interface EnvoyPair {
  readonly label: string;
  readonly client: EnvoyProcess;
  readonly server: EnvoyProcess;
  readonly clientPort: number;
}

export interface MeshOptions {
  /** svid.ttl: rotations happen at about half of it. */
  readonly svidTtl: string;
  readonly rotationPropagationDelay: string;
}

/**
 * meshid (`meshid run`, a real process that can be SIGTERMed and restarted) and, on its socket:
 * pair "a" (client GRPC + ROOTCA → server DELTA_GRPC + SPIFFE validator), pair "b" with the
 * API types swapped, and an intruder client Envoy whose uid holds another SPIFFE ID, pointed at
 * pair a's server. One backend checks x-forwarded-client-cert.
 */
export class EnvoyMesh {
  readonly agents = new AgentProcesses();
  private agent: ChildProcess | undefined;
  readonly envoys: EnvoyProcess[] = [];
  pairs: EnvoyPair[] = [];
  intruder: { envoy: EnvoyProcess; port: number } | undefined;
  backend: XfccBackend | undefined;

  private constructor(
    readonly dir: string,
    readonly configFile: string,
    readonly socketPath: string,
    readonly adminAddress: string,
  ) {}

  static async start(options: MeshOptions): Promise<EnvoyMesh> {
    const dir = await makeTempDir('meshid-interop-');
    const socketPath = path.join(dir, 'agent.sock');
    const adminAddress = `127.0.0.1:${await freePort()}`;
    const configFile = path.join(dir, 'meshid.yaml');
    const entries = Object.entries({ [CLIENT_ID]: UIDS.client, [SERVER_ID]: UIDS.server, [INTRUDER_ID]: UIDS.intruder })
      .map(([id, uid]) => `  - spiffeId: ${id}\n    selectors: ['unix:uid:${uid}']\n`)
      .join('');
    await writeFile(
      configFile,
      `trustDomain: example.org\ndataDir: ${path.join(dir, 'data')}\nsocketPath: ${socketPath}\nadmin:\n  listen: ${adminAddress}\n` +
        `svid:\n  ttl: ${options.svidTtl}\nca:\n  rotationPropagationDelay: ${options.rotationPropagationDelay}\nentries:\n${entries}`,
    );
    const mesh = new EnvoyMesh(dir, configFile, socketPath, adminAddress);
    await mesh.startAgent();
    mesh.backend = await XfccBackend.start(CLIENT_ID);
    mesh.pairs = [await mesh.startPair('a', 'GRPC', 'DELTA_GRPC'), await mesh.startPair('b', 'DELTA_GRPC', 'GRPC')];
    const intruderPort = await freePort();
    const intruder = await mesh.startEnvoy('intruder', UIDS.intruder, (adminPort) =>
      clientSidecar({ nodeId: 'intruder', adminPort, socketPath, apiType: 'DELTA_GRPC', validation: 'ROOTCA', peerId: SERVER_ID, listenPort: intruderPort, serverPort: mesh.serverPortOf('a'), forbiddenSecret: SERVER_ID }),
    );
    mesh.intruder = { envoy: intruder, port: intruderPort };
    await Promise.all(mesh.envoys.map((envoy) => envoy.ready()));
    return mesh;
  }

  private readonly serverPorts = new Map<string, number>();

  private serverPortOf(label: string): number {
    const port = this.serverPorts.get(label);
    if (port === undefined) throw new Error(`no pair ${label}`);
    return port;
  }

  private async startEnvoy(name: string, uid: number, config: (adminPort: number) => object): Promise<EnvoyProcess> {
    const adminPort = await freePort();
    const envoy = await EnvoyProcess.start(name, uid, adminPort, this.dir, config(adminPort));
    this.envoys.push(envoy);
    return envoy;
  }

  private async startPair(label: string, clientApi: SdsApiType, serverApi: SdsApiType): Promise<EnvoyPair> {
    const [clientPort, serverPort] = [await freePort(), await freePort()];
    this.serverPorts.set(label, serverPort);
    const socketPath = this.socketPath;
    const backendPort = this.backend?.port ?? 0;
    // The trusted_ca form on one side, the SPIFFE validator (trust-domain name) on the other.
    const server = await this.startEnvoy(`server-${label}`, UIDS.server, (adminPort) =>
      serverSidecar({ nodeId: `server-${label}`, adminPort, socketPath, apiType: serverApi, validation: TRUST_DOMAIN, peerId: CLIENT_ID, listenPort: serverPort, backendPort }),
    );
    const client = await this.startEnvoy(`client-${label}`, UIDS.client, (adminPort) =>
      clientSidecar({ nodeId: `client-${label}`, adminPort, socketPath, apiType: clientApi, validation: 'ROOTCA', peerId: SERVER_ID, listenPort: clientPort, serverPort }),
    );
    return { label, client, server, clientPort };
  }

  async startAgent(): Promise<void> {
    this.agent = await this.agents.start(this.configFile, this.socketPath, this.dir);
  }

  /** SIGTERM, as systemd or the kubelet stop it; resolves once the process has exited. */
  async terminateAgent(): Promise<number | null> {
    const agent = this.agent;
    if (!agent) throw new Error('no agent running');
    const exited = once(agent, 'exit') as Promise<[number | null, string | null]>;
    agent.kill('SIGTERM');
    const [code] = await exited;
    return code;
  }

  async adminJson<T>(pathname: string): Promise<T> {
    return (await (await fetch(`http://${this.adminAddress}${pathname}`)).json()) as T;
  }

  /** meshid's current serial per SPIFFE ID (GET /debug/svids). */
  async meshidSerials(): Promise<Map<string, string>> {
    const { svids } = await this.adminJson<{ svids: { spiffeId: string; serial: string }[] }>('/debug/svids');
    return new Map(svids.map((svid) => [svid.spiffeId, svid.serial]));
  }

  async stop(): Promise<void> {
    await Promise.all(this.envoys.map((envoy) => envoy.stop()));
    await this.agents.stopAll();
    await this.backend?.close();
  }

  /** Every Envoy's recent log, for assertion messages. */
  logs(): string {
    return this.envoys.map((envoy) => envoy.logTail(15)).join('\n');
  }
}
