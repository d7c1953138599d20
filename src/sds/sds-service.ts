import type { ServerDuplexStream, ServerUnaryCall, sendUnaryData, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { toServiceError } from '../serving/grpc-status';
import type { CallerResolver } from '../serving/caller-resolver';
import type { StreamApi, StreamObserver } from '../serving/stream-observer';
import type { SvidSource } from '../serving/svid-source';
import type { BundleAckRegistry } from './bundle-acks';
import type { CallerBudget } from '../serving/caller-budget';
import { DeltaSecretStream } from './delta-secret-stream';
import { SECRET_TYPE_URL, type DeltaDiscoveryRequest, type DeltaDiscoveryResponse, type DiscoveryRequest, type DiscoveryResponse } from './messages';
import { renderSecrets } from './render-secrets';
import { SecretStream } from './secret-stream';
import { resolveSecretNames } from './secret-names';
import { serveDiscoveryStream } from './serve-stream';
import { checkSotwNames } from '../serving/request-limits';
import { requireSecretTypeUrl } from './stream-rules';
import { validatorFormFor } from './validator-choice';

export interface SdsDependencies {
  readonly resolver: CallerResolver;
  readonly store: SvidSource;
  readonly trustDomain: string;
  readonly logger: Logger;
  readonly observer?: StreamObserver;
  /** Where streams report the bundle versions their clients ACKed (root rotation waits on it). */
  readonly acks?: BundleAckRegistry;
  /** Streams and subscriptions per caller (uid) across all its SDS streams (serving/caller-budget.ts). */
  readonly budget?: CallerBudget;
}

/**
 * envoy.service.secret.v3.SecretDiscoveryService on the agent socket. The caller is attested from
 * the connection once per stream; Envoy sends no workload.spiffe.io header, so none is required.
 */
export function sdsService(deps: SdsDependencies): UntypedServiceImplementation {
  const { resolver, store, trustDomain, logger } = deps;
  const pushObserver = (api: StreamApi) => (seconds: number) => deps.observer?.pushed(api, seconds);

  const StreamSecrets = (call: ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>): void => {
    serveDiscoveryStream(call, deps, 'sds_sotw', (workload, fail, sink, lease) => new SecretStream({ sink, store, trustDomain, logger, onError: fail, onSent: pushObserver('sds_sotw'), lease }, workload.entries));
  };

  const DeltaSecrets = (call: ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>): void => {
    serveDiscoveryStream(call, deps, 'sds_delta', (workload, fail, sink, lease) => new DeltaSecretStream({ sink, store, trustDomain, logger, onError: fail, onSent: pushObserver('sds_delta'), lease }, workload.entries));
  };

  const FetchSecrets = (call: ServerUnaryCall<DiscoveryRequest, DiscoveryResponse>, callback: sendUnaryData<DiscoveryResponse>): void => {
    (async () => {
      requireSecretTypeUrl(call.request.type_url);
      checkSotwNames(call.request.resource_names);
      const workload = await resolver.resolve(call.getPeer());
      const sources = resolveSecretNames(call.request.resource_names, workload.entries, trustDomain);
      const rendered = await renderSecrets(sources, store, validatorFormFor(call.request.node));
      return { version_info: rendered.message.version, resources: rendered.message.resources, type_url: SECRET_TYPE_URL, nonce: '' };
    })().then(
      (response) => callback(null, response),
      (error: unknown) => callback(toServiceError(error)),
    );
  };

  return { StreamSecrets, FetchSecrets, DeltaSecrets };
}
