import type { FederatedBundleSource } from '../identity/federated-bundles';
import type { ServerSync } from './server-sync';

/** The server's federated bundles (those this node's entries federate with) as the Workload API reads them. */
export class ServerFederatedBundles implements FederatedBundleSource {
  private bundles: ReadonlyMap<string, readonly Buffer[]>;
  private currentVersion = 1;
  private readonly listeners = new Set<() => void>();

  constructor(sync: ServerSync) {
    this.bundles = sync.currentFederated;
    sync.onFederated((bundles) => {
      this.bundles = bundles;
      this.currentVersion++;
      for (const listener of this.listeners) listener();
    });
  }

  get version(): number {
    return this.currentVersion;
  }

  current(): ReadonlyMap<string, readonly Buffer[]> {
    return this.bundles;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
