import type { Clock } from '../../common/clock';
import type { Pod } from './pod-list';

export interface FetchedPods {
  readonly pods: readonly Pod[];
  /** Clock time the fetch started: the list is at least this fresh. */
  readonly fetchedAt: number;
}

/**
 * The node's pod list, fetched at most once per need: callers ask for a list fetched no earlier
 * than some time, and share the fetch in flight when it qualifies. A burst of new workloads thus
 * costs one request to the kubelet, not one each.
 */
export class PodListCache {
  private latest: FetchedPods | undefined;
  private inflight: { startedAt: number; promise: Promise<FetchedPods> } | undefined;

  constructor(
    private readonly fetch: () => Promise<readonly Pod[]>,
    private readonly clock: Clock,
  ) {}

  get(notBefore: number): Promise<FetchedPods> {
    if (this.latest && this.latest.fetchedAt >= notBefore) return Promise.resolve(this.latest);
    if (this.inflight && this.inflight.startedAt >= notBefore) return this.inflight.promise;
    const startedAt = this.clock.now();
    const promise = this.fetch().then((pods) => {
      const fetched = { pods, fetchedAt: startedAt };
      if (!this.latest || this.latest.fetchedAt <= startedAt) this.latest = fetched;
      return fetched;
    });
    const inflight = { startedAt, promise };
    this.inflight = inflight;
    const settled = (): void => {
      if (this.inflight === inflight) this.inflight = undefined;
    };
    promise.then(settled, settled);
    return promise;
  }
}
