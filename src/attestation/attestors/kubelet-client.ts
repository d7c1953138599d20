import { readFile } from 'node:fs/promises';
import https from 'node:https';
import { MeshidError } from '../../common/errors';
import { getJson } from './http-json';
import { podsOf, type Pod } from './pod-list';

export interface KubeletClientOptions {
  /** e.g. https://127.0.0.1:10250 */
  readonly kubeletUrl: string;
  readonly tokenFile?: string;
  readonly caFile?: string;
  readonly skipKubeletVerification?: boolean;
}

// A node runs at most a few hundred pods; their full specs stay well under this.
const MAX_POD_LIST_BYTES = 64 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 10_000;

const fail = (reason: string): MeshidError => new MeshidError('ATTESTATION_FAILED', `attestor(k8s): ${reason}`);

/** GET /pods on the kubelet's authenticated port, as SPIRE's k8s workload attestor does. */
export class KubeletClient {
  private readonly podsUrl: URL;
  private agent: Promise<https.Agent> | undefined;

  constructor(private readonly options: KubeletClientOptions) {
    this.podsUrl = new URL(`${options.kubeletUrl.replace(/\/+$/, '')}/pods`);
    // The bearer token must not travel in clear text.
    if (this.podsUrl.protocol !== 'https:') throw new MeshidError('INVALID_CONFIG', `attestor(k8s): kubeletUrl must be https, got ${this.podsUrl.protocol}`);
  }

  async listPods(): Promise<readonly Pod[]> {
    const [agent, token] = await Promise.all([this.tlsAgent(), this.readToken()]);
    let response;
    try {
      response = await getJson(
        https.request,
        // URL keeps an IPv6 literal's brackets; a socket address has none.
        { agent, host: this.podsUrl.hostname.replace(/^\[(.*)\]$/, '$1'), port: this.podsUrl.port, path: this.podsUrl.pathname, headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } },
        { maxBytes: MAX_POD_LIST_BYTES, timeoutMs: REQUEST_TIMEOUT_MS },
      );
    } catch (error) {
      throw fail(`cannot list pods from the kubelet at ${this.podsUrl.origin}: ${(error as Error).message}`);
    }
    if (response.status !== 200) throw fail(`kubelet answered HTTP ${response.status} to GET /pods${hintFor(response.status)}`);
    const pods = podsOf(response.body);
    if (!pods) throw fail('kubelet /pods did not answer a v1 PodList');
    return pods;
  }

  /**
   * Read on every request: projected service account tokens are rotated by the kubelet (a new
   * file behind the same path), and a pod list is fetched rarely enough for one small read.
   */
  private async readToken(): Promise<string | undefined> {
    if (this.options.tokenFile === undefined) return undefined;
    try {
      return (await readFile(this.options.tokenFile, 'utf8')).trim();
    } catch (error) {
      throw fail(`cannot read tokenFile ${this.options.tokenFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }

  /** One keep-alive agent, so repeated lists reuse the TLS session. */
  private tlsAgent(): Promise<https.Agent> {
    this.agent ??= this.makeAgent().catch((error: unknown) => {
      this.agent = undefined; // a CA file that appears later is picked up on the next call
      throw error;
    });
    return this.agent;
  }

  private async makeAgent(): Promise<https.Agent> {
    const { caFile, skipKubeletVerification } = this.options;
    let ca: string | undefined;
    if (caFile !== undefined && !skipKubeletVerification) {
      try {
        ca = await readFile(caFile, 'utf8');
      } catch (error) {
        throw fail(`cannot read caFile ${caFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
    }
    return new https.Agent({ keepAlive: true, maxSockets: 4, rejectUnauthorized: !skipKubeletVerification, ...(ca !== undefined ? { ca } : {}) });
  }
}

function hintFor(status: number): string {
  if (status === 401) return ' (token missing, expired or not accepted)';
  if (status === 403) return ' (the token\'s identity may not get nodes/proxy)';
  return '';
}
