import http from 'node:http';
import { MeshidError } from '../../common/errors';
import { getJson } from './http-json';
import { readCgroupIds } from './read-cgroup-ids';
import type { AttestationSubject, WorkloadAttestor } from './workload-attestor';

export interface DockerAttestorOptions {
  readonly procRoot: string;
  /** The Docker Engine API socket, usually /var/run/docker.sock. */
  readonly socketPath: string;
  /** Environment variables whose values become docker:env selectors; no others are exposed. */
  readonly envAllowlist?: readonly string[];
}

const MAX_INSPECT_BYTES = 4 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 5_000;

/** The parts of `GET /containers/{id}/json` (ContainerInspectResponse) attestation reads. */
interface ContainerInspect {
  Id?: string;
  Image?: string;
  Config?: { Labels?: Record<string, string> | null; Env?: string[] | null };
}

const fail = (reason: string): MeshidError => new MeshidError('ATTESTATION_FAILED', `attestor(docker): ${reason}`);

/**
 * docker:label, docker:image_id and allow-listed docker:env selectors from the Docker Engine's
 * view of the container whose ID is in the caller's cgroups.
 */
export class DockerAttestor implements WorkloadAttestor {
  readonly name = 'docker';
  private readonly envAllowlist: ReadonlySet<string>;

  constructor(private readonly options: DockerAttestorOptions) {
    this.envAllowlist = new Set(options.envAllowlist ?? []);
  }

  async attest({ pid }: AttestationSubject): Promise<readonly string[]> {
    const { containerId } = readCgroupIds(this.options.procRoot, pid, 'docker');
    if (containerId === undefined) return [];
    const container = await this.inspect(containerId);
    if (!container) return [];
    const selectors: string[] = [];
    for (const [key, value] of Object.entries(container.Config?.Labels ?? {})) selectors.push(`docker:label:${key}:${value}`);
    if (container.Image) selectors.push(`docker:image_id:${container.Image}`);
    for (const variable of container.Config?.Env ?? []) {
      const separator = variable.indexOf('=');
      const key = separator < 0 ? variable : variable.slice(0, separator);
      if (separator >= 0 && this.envAllowlist.has(key)) selectors.push(`docker:env:${key}:${variable.slice(separator + 1)}`);
    }
    return selectors;
  }

  /** undefined when the engine does not know the container (e.g. a CRI container on the node). */
  private async inspect(containerId: string): Promise<ContainerInspect | undefined> {
    let response;
    try {
      // Unversioned path: the engine answers in its own current API version. Id, Image and
      // Config.{Labels,Env} have kept their shape across versions, while any fixed version is
      // refused by engines too old or too new for it.
      response = await getJson(http.request, { socketPath: this.options.socketPath, path: `/containers/${containerId}/json`, headers: { host: 'docker' } }, { maxBytes: MAX_INSPECT_BYTES, timeoutMs: REQUEST_TIMEOUT_MS });
    } catch (error) {
      throw fail(`cannot reach the Docker engine at ${this.options.socketPath}: ${(error as Error).message}`);
    }
    if (response.status === 404) return undefined;
    if (response.status !== 200) {
      const message = (response.body as { message?: unknown } | undefined)?.message;
      throw fail(`Docker engine answered HTTP ${response.status} to inspecting ${containerId}${typeof message === 'string' ? `: ${message.slice(0, 200)}` : ''}`);
    }
    const container = response.body as ContainerInspect | undefined;
    if (container?.Id !== containerId) throw fail(`Docker engine answered for container ${String(container?.Id)} when asked for ${containerId}`);
    return container;
  }
}
