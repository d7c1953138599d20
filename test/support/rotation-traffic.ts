import { X509Certificate } from 'node:crypto';
import type { RotationStatus } from '../../src/rotation/root-rotation-status';
import { derCertificatesToPem, pemBlocks, pkcs8DerToPem } from './pem';
import { spiffeHandshake, type HandshakeResult, type TlsIdentity } from './spiffe-tls';
import { securityHeader, workloadClient, type X509SvidResponse } from './workload-client';

/**
 * One in-process workload holding a FetchX509SVID stream open and using, like an Envoy fed by
 * SDS, whatever it received last: its SVID for the given SPIFFE ID and the bundle to verify peers.
 */
export class StreamedWorkload {
  private latest: TlsIdentity | undefined;
  private readonly client: ReturnType<typeof workloadClient>;
  private readonly call: ReturnType<ReturnType<typeof workloadClient>['FetchX509SVID']>;
  messages = 0;
  error: Error | undefined;

  constructor(socketPath: string, readonly spiffeId: string) {
    this.client = workloadClient(socketPath);
    this.call = this.client.FetchX509SVID({}, securityHeader());
    this.call.on('data', (response: X509SvidResponse) => {
      const svid = response.svids.find((candidate) => candidate.spiffe_id === spiffeId);
      if (!svid) return;
      this.messages++;
      this.latest = { chainPem: derCertificatesToPem(svid.x509_svid), keyPem: pkcs8DerToPem(svid.x509_svid_key), bundlePem: derCertificatesToPem(svid.bundle) };
    });
    this.call.on('error', (error: Error) => (this.error = error));
  }

  get identity(): TlsIdentity {
    if (!this.latest) throw new Error(`${this.spiffeId} has received nothing yet`);
    return this.latest;
  }

  get ready(): boolean {
    return this.latest !== undefined;
  }

  /** The bundle's roots, as PEM. */
  get roots(): string[] {
    return pemBlocks(this.identity.bundlePem);
  }

  /** The chain's certificates, leaf first. */
  get chain(): X509Certificate[] {
    return pemBlocks(this.identity.chainPem).map((pem) => new X509Certificate(pem));
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

/** Whether the chain's last certificate was issued and signed by `rootPem`. */
export function chainsTo(chain: readonly X509Certificate[], rootPem: string): boolean {
  const top = chain[chain.length - 1];
  const root = new X509Certificate(rootPem);
  return top !== undefined && top.checkIssued(root) && top.verify(root.publicKey);
}

/**
 * New mutual-TLS connections between two workloads, back to back, alternating who serves, each
 * side presenting its latest SVID and verifying the peer against its latest bundle. Records
 * every failure with what each side held at the time.
 */
export class HandshakeTraffic {
  succeeded = 0;
  readonly failures: string[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(a: StreamedWorkload, b: StreamedWorkload) {
    this.loop = (async () => {
      for (let turn = 0; this.running; turn++) {
        const [server, client] = turn % 2 === 0 ? [a, b] : [b, a];
        const result: HandshakeResult = await spiffeHandshake(server.identity, client.identity, { server: server.spiffeId, client: client.spiffeId });
        if (result.ok) this.succeeded++;
        else this.failures.push(`${client.spiffeId} → ${server.spiffeId}: ${JSON.stringify(result)}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
  }

  /** Resolves once `count` more handshakes have succeeded (so every phase sees real traffic). */
  async atLeast(count: number): Promise<void> {
    const target = this.succeeded + count;
    const deadline = Date.now() + 30_000;
    while (this.succeeded < target) {
      if (Date.now() > deadline) throw new Error(`only ${this.succeeded} handshakes succeeded; failures: ${this.failures.slice(0, 3).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

/** GET /ca/rotation. */
export async function rotationStatus(adminAddress: string): Promise<RotationStatus> {
  const response = await fetch(`http://${adminAddress}/ca/rotation`);
  return (await response.json()) as RotationStatus;
}

/** POST /ca/rotate as `meshid ca rotate` sends it. */
export async function requestRotation(adminAddress: string): Promise<{ status: number; body: RotationStatus & { error?: string; reason?: string } }> {
  const response = await fetch(`http://${adminAddress}/ca/rotate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  return { status: response.status, body: (await response.json()) as RotationStatus & { error?: string; reason?: string } };
}

/** Polls an asynchronous condition; the bound only keeps a broken step from hanging the run. */
export async function eventually(condition: () => boolean | Promise<boolean>, what: string, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
