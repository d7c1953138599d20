import { MeshidError } from '../../common/errors';
import { systemClock, type Clock } from '../../common/clock';
import { k8sSelectors } from './k8s-selectors';
import { KubeletClient } from './kubelet-client';
import { PodListCache } from './pod-list-cache';
import { findWorkloadContainer } from './pod-list';
import { readCgroupIds } from './read-cgroup-ids';
import type { AttestationSubject, WorkloadAttestor } from './workload-attestor';

export interface K8sAttestorOptions {
  readonly procRoot: string;
  /** GET {kubeletUrl}/pods returns a v1 PodList; the kubelet's authenticated port on the node itself (https://127.0.0.1:10250) is the usual value. */
  readonly kubeletUrl: string;
  /** Bearer token for the kubelet, re-read on every fetch (projected tokens rotate). */
  readonly tokenFile?: string;
  /** CA that signed the kubelet's serving certificate. */
  readonly caFile?: string;
  readonly skipKubeletVerification?: boolean;
  /** Value of k8s:node-name; the pod's spec.nodeName otherwise. */
  readonly nodeName?: string;
  /** Wait between pod list fetches while a new pod or container is not listed yet (default 500). */
  readonly pollIntervalMs?: number;
  /** Pod list fetches before giving up on a pod the kubelet does not list (default 10). */
  readonly maxPollAttempts?: number;
  readonly clock?: Clock;
}

/** How old a cached pod list may be for a first look; a miss always looks at a newer one. */
const POD_LIST_MAX_AGE_MS = 1_000;

/**
 * k8s selectors from the kubelet's view of the caller's pod and container, found through the
 * pod UID and container ID in /proc/<pid>/cgroup. A process outside any pod container is not a
 * Kubernetes workload: no selectors, no error.
 */
export class K8sAttestor implements WorkloadAttestor {
  readonly name = 'k8s';
  private readonly clock: Clock;
  private readonly pods: PodListCache;

  constructor(private readonly options: K8sAttestorOptions) {
    this.clock = options.clock ?? systemClock;
    const kubelet = new KubeletClient(options);
    this.pods = new PodListCache(() => kubelet.listPods(), this.clock);
  }

  async attest({ pid }: AttestationSubject): Promise<readonly string[]> {
    const { podUid, containerId } = readCgroupIds(this.options.procRoot, pid, 'k8s');
    // conmon and other per-pod helpers sit in the pod's cgroup but in no container of it.
    if (podUid === undefined || containerId === undefined) return [];
    const ids = { podUid, containerId };

    const began = this.clock.now();
    const maxAttempts = Math.max(1, this.options.maxPollAttempts ?? 10);
    let list = await this.pods.get(began - POD_LIST_MAX_AGE_MS);
    for (let attempt = 1; ; attempt++) {
      const found = findWorkloadContainer(list.pods, ids);
      if (found) return k8sSelectors(found, this.options.nodeName);
      if (attempt >= maxAttempts) break;
      // A just-started container is listed by the kubelet a little after it runs: a cached list
      // from before this call is refreshed at once, a fresh one is polled again after a pause.
      if (list.fetchedAt >= began) await this.pause();
      list = await this.pods.get(Math.max(began, this.clock.now()));
    }
    throw new MeshidError('ATTESTATION_FAILED', `attestor(k8s): the kubelet does not list pod ${podUid} with container ${containerId} (${maxAttempts} pod lists fetched)`);
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => this.clock.setTimer(this.options.pollIntervalMs ?? 500, resolve));
  }
}
