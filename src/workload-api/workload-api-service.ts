import type { ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { JwtAuthority } from '../jwt/jwt-authority';
import type { Rendered } from '../common/latest-value-pusher';
import type { StoreChange } from '../rotation/svid-store';
import type { SvidSource } from '../serving/svid-source';
import type { CallerResolver } from '../serving/caller-resolver';
import type { StreamApi, StreamObserver } from '../serving/stream-observer';
import type { RegistrationEntry } from '../entries/entries';
import { federatedFor } from '../identity/federated-bundles';
import type { ResolvedWorkload } from '../attestation/workload-resolver';
import { bundleDer, chainDer, trustDomainId } from './bundle-bytes';
import { jwtHandlers } from './jwt-handlers';
import type { X509BundlesResponse, X509SvidResponse } from './messages';
import { serveWorkloadStream } from './workload-stream';

export interface WorkloadApiDependencies {
  readonly resolver: CallerResolver;
  readonly store: SvidSource;
  readonly jwt: JwtAuthority;
  readonly logger: Logger;
  readonly observer?: StreamObserver;
}

type Render<T> = (workload: ResolvedWorkload) => Promise<Rendered<T>>;

/**
 * SPIFFE Workload API streams: the full state at once, then a new full state only when something
 * this caller holds changed (spec: "FetchX509SVID"; identical messages are never re-sent).
 */
export function workloadApiService(deps: WorkloadApiDependencies): UntypedServiceImplementation {
  const renderSvids: Render<X509SvidResponse> = async (workload) => {
    const svids = await Promise.all(workload.entries.map((entry) => deps.store.get(entry)));
    const bundle = deps.store.bundle;
    const bundleBytes = bundleDer(bundle);
    return {
      // Serials name the certificates; hints are the only other per-SVID content (an entry edit
      // may change just the hint, and that must reach the workload).
      fingerprint: `${bundle.version}/f${deps.store.federated?.version ?? 0}/${svids.map((svid, index) => `${svid.serialHex}:${workload.entries[index]?.hint ?? ''}`).join(',')}`,
      message: {
        svids: svids.map((svid, index) => ({
          spiffe_id: svid.spiffeId,
          x509_svid: chainDer(svid),
          x509_svid_key: svid.privateKeyPkcs8Der,
          bundle: bundleBytes,
          hint: workload.entries[index]?.hint ?? '',
        })),
        crl: [],
        federated_bundles: federatedFor(deps.store.federated, workload.entries),
      },
    };
  };

  const renderBundles: Render<X509BundlesResponse> = async (workload) => {
    const bundle = deps.store.bundle;
    const federated = federatedFor(deps.store.federated, workload.entries);
    return { fingerprint: `${bundle.version}/f${deps.store.federated?.version ?? 0}`, message: { crl: [], bundles: { ...federated, [trustDomainId(bundle)]: bundleDer(bundle) } } };
  };

  type Relevant = (workload: ResolvedWorkload, change: StoreChange) => boolean;
  const stream =
    <T>(api: StreamApi, render: Render<T>, relevant: Relevant) =>
    (call: ServerWritableStream<unknown, T>): void =>
      void serveWorkloadStream(call, deps, {
        api,
        render,
        // A federated bundle change is a store 'bundle' change; the fingerprint drops it when it changed nothing this caller holds.
        watch: (current, notify) => deps.store.subscribe((change) => (relevant(current(), change) ? notify() : undefined)),
      });

  return {
    FetchX509SVID: stream('workload_x509_svid', renderSvids, (workload, change) => change.kind === 'bundle' || idsOf(workload.entries).has(change.spiffeId)),
    FetchX509Bundles: stream('workload_x509_bundles', renderBundles, (_workload, change) => change.kind === 'bundle'),
    ...jwtHandlers({ resolver: deps.resolver, jwt: deps.jwt, logger: deps.logger, ...(deps.observer ? { observer: deps.observer } : {}) }),
  };
}

/** The IDs a stream serves, as a set: every store change is checked against it (storms: 2,000 changes). */
const idSets = new WeakMap<readonly RegistrationEntry[], Set<string>>();
function idsOf(entries: readonly RegistrationEntry[]): Set<string> {
  let ids = idSets.get(entries);
  if (!ids) {
    ids = new Set(entries.map((entry) => entry.spiffeId));
    idSets.set(entries, ids);
  }
  return ids;
}
