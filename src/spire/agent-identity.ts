import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { MeshidError } from '../common/errors';
import { generateKey } from '../identity/key-type';
import { derToPem } from '../identity/pem';
import { keyObjectSigner } from '../identity/signer';
import { Backoff } from '../common/backoff';
import type { Clock, Timer } from '../common/clock';
import { drawJitter, rotationTime } from '../rotation/rotation-time';
import { describeAgentSvid, loadAgentSvid, saveAgentSvid, type AgentSvid } from './agent-svid-file';
import { certificateRequest } from './certificate-request';
import type { NodeAttestor } from './node-attestor';
import type { ServerConnection } from './server-connection';
import { call, type AttestAgentResponse, type X509SvidMessage } from './spire-api';
import { spireCallProblem } from './spire-errors';

export interface AgentIdentityOptions {
  readonly dataDir: string;
  readonly connection: ServerConnection;
  /** Used only when dataDir holds no usable agent SVID. */
  readonly attestor: NodeAttestor | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random?: () => number;
}

/**
 * The node's identity towards spire-server: the agent SVID from node attestation, kept in dataDir
 * and renewed (Agent/RenewAgent) at half-life with a new key, as spire-agent's rotator does
 * (pkg/agent/svid/rotator.go). The connection always presents the newest one: after a renewal
 * the server accepts only the new serial once it has been used.
 */
export class AgentIdentity {
  private timer: Timer | undefined;
  private stopped = false;
  private readonly backoff: Backoff;

  private constructor(
    private svid: AgentSvid,
    private readonly options: AgentIdentityOptions,
  ) {
    this.backoff = new Backoff(1_000, 60_000, options.random);
    options.connection.setIdentity(svid);
  }

  /** Reuses the stored agent SVID, or attests with the configured attestor. */
  static async open(options: AgentIdentityOptions): Promise<AgentIdentity> {
    const { dataDir, clock, logger, attestor } = options;
    const stored = await loadAgentSvid(dataDir);
    if (stored && stored.notAfterMs > clock.now()) {
      logger.info({ spiffeId: stored.spiffeId, notAfter: new Date(stored.notAfterMs).toISOString() }, 'spire: reusing the stored agent SVID');
      return new AgentIdentity(stored, options);
    }
    if (!attestor) {
      const why = stored ? `the stored agent SVID expired on ${new Date(stored.notAfterMs).toISOString()}` : 'dataDir holds no agent SVID';
      throw new MeshidError('UPSTREAM', `upstream(spire): ${why} and no joinTokenFile is configured; generate one with \`spire-server token generate -spiffeID …\``);
    }
    const svid = await attest(options.connection, attestor);
    await saveAgentSvid(dataDir, svid);
    logger.info({ spiffeId: svid.spiffeId, attestor: attestor.type, notAfter: new Date(svid.notAfterMs).toISOString() }, 'spire: node attested');
    return new AgentIdentity(svid, options);
  }

  get current(): AgentSvid {
    return this.svid;
  }

  start(): void {
    this.scheduleRenewal();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private scheduleRenewal(delayMs = rotationTime(this.svid.notBeforeMs, this.svid.notAfterMs, drawJitter(this.options.random)) - this.options.clock.now()): void {
    if (this.stopped) return;
    this.timer?.cancel();
    this.timer = this.options.clock.setTimer(delayMs, () => void this.renew());
  }

  /** Agent/RenewAgent with a CSR for a new key; the new SVID is saved before it is used. */
  async renew(): Promise<void> {
    const { connection, dataDir, logger } = this.options;
    try {
      const key = await generateKey('ec-p256');
      const csr = await certificateRequest(keyObjectSigner(key.privateKey));
      const response = await call(connection.api.agent, connection.api.agent.RenewAgent, { params: { csr } });
      const svid = svidFrom(response.svid, derToPem('PRIVATE KEY', key.privateKeyPkcs8Der));
      await saveAgentSvid(dataDir, svid);
      if (this.stopped) return;
      this.svid = svid;
      connection.setIdentity(svid);
      this.backoff.reset();
      logger.info({ spiffeId: svid.spiffeId, notAfter: new Date(svid.notAfterMs).toISOString() }, 'spire: agent SVID renewed');
      this.scheduleRenewal();
    } catch (error) {
      const delay = this.backoff.nextDelayMs();
      logger.error({ err: spireCallProblem(error), retryInMs: Math.round(delay) }, 'spire: agent SVID renewal failed');
      this.scheduleRenewal(delay);
    }
  }
}

/** Agent/AttestAgent: params (attestation data + CSR), then challenge/response rounds until a result. */
async function attest(connection: ServerConnection, attestor: NodeAttestor): Promise<AgentSvid> {
  const key = await generateKey('ec-p256');
  const csr = await certificateRequest(keyObjectSigner(key.privateKey));
  const payload = await attestor.attestationPayload();
  // grpc-js deadlines are absolute wall-clock times it compares with Date.now itself.
  const stream = connection.api.agent.AttestAgent(new grpc.Metadata(), { deadline: Date.now() + 30_000 });
  const result = await new Promise<X509SvidMessage | null>((resolve, reject) => {
    stream.on('data', (response: AttestAgentResponse) => {
      if (response.step === 'result') {
        resolve(response.result?.svid ?? null);
        stream.end();
      } else if (response.challenge && attestor.respond) {
        attestor.respond(response.challenge).then((answer) => stream.write({ challenge_response: answer }), reject);
      } else {
        reject(new MeshidError('UPSTREAM', `upstream(spire): the server sent a challenge the ${attestor.type} attestor cannot answer`));
        stream.cancel();
      }
    });
    stream.on('error', (error) => reject(new MeshidError('UPSTREAM', `upstream(spire): node attestation (${attestor.type}) failed: ${spireCallProblem(error)}`)));
    stream.on('end', () => reject(new MeshidError('UPSTREAM', `upstream(spire): node attestation (${attestor.type}): the server closed the stream without a result`)));
    stream.write({ params: { data: { type: attestor.type, payload }, params: { csr } } });
  });
  return svidFrom(result, derToPem('PRIVATE KEY', key.privateKeyPkcs8Der));
}

function svidFrom(message: X509SvidMessage | null, privateKeyPem: string): AgentSvid {
  if (!message || message.cert_chain.length === 0) throw new MeshidError('UPSTREAM', 'upstream(spire): the server answered without an X509-SVID');
  return describeAgentSvid(message.cert_chain, privateKeyPem, 'the server response');
}
