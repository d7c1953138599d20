import { status as GrpcStatus, type ServerDuplexStream, type ServerUnaryCall, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { SvidStore } from '../rotation/svid-store';
import { toServiceError } from '../workload/grpc-status';
import type { WorkloadResolver } from '../workload/workload-resolver';
import { SECRET_TYPE_URL, type DiscoveryRequest, type DiscoveryResponse } from './messages';
import { renderSecrets } from './render-secrets';
import { SecretStream } from './secret-stream';
import { resolveSecretNames } from './secret-names';

export interface SdsDependencies {
  readonly resolver: WorkloadResolver;
  readonly store: SvidStore;
  readonly trustDomain: string;
  readonly logger: Logger;
}

/**
 * envoy.service.secret.v3.SecretDiscoveryService on the agent socket. The caller is attested from
 * the connection once per stream; Envoy sends no workload.spiffe.io header, so none is required.
 */
export function sdsService(deps: SdsDependencies): UntypedServiceImplementation {
  const { resolver, store, trustDomain, logger } = deps;

  const StreamSecrets = (call: ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>): void => {
    let failed = false;
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      const status = toServiceError(error);
      logger.debug({ code: status.code, reason: status.details }, 'SDS stream ended with error');
      call.emit('error', status);
    };
    let secretStream: SecretStream | undefined;
    let unsubscribe = (): void => undefined;
    // Requests are handled strictly in order; the first one waits for attestation.
    let queue: Promise<void> = resolver.resolve(call.getPeer()).then((workload) => {
      secretStream = new SecretStream(call, workload, store, trustDomain, logger, fail);
      const stream = secretStream;
      unsubscribe = store.subscribe((change) => stream.onStoreChange(change));
    });
    queue.catch(fail);

    call.on('data', (request: DiscoveryRequest) => {
      queue = queue.then(() => {
        if (!failed) secretStream?.handle(request);
      });
      queue.catch(fail);
    });
    call.on('end', () => call.end());
    const cleanup = (): void => {
      secretStream?.close();
      unsubscribe();
    };
    call.once('cancelled', cleanup);
    call.once('close', cleanup);
    call.once('error', cleanup);
  };

  const FetchSecrets = (call: ServerUnaryCall<DiscoveryRequest, DiscoveryResponse>, callback: sendUnaryData<DiscoveryResponse>): void => {
    (async () => {
      const workload = await resolver.resolve(call.getPeer());
      const sources = resolveSecretNames(call.request.resource_names, workload.entries, trustDomain);
      const rendered = await renderSecrets(sources, store);
      return { version_info: rendered.message.version, resources: rendered.message.resources, type_url: SECRET_TYPE_URL, nonce: '' };
    })().then(
      (response) => callback(null, response),
      (error: unknown) => callback(toServiceError(error)),
    );
  };

  const DeltaSecrets = (call: ServerDuplexStream<unknown, unknown>): void => {
    call.emit('error', { code: GrpcStatus.UNIMPLEMENTED, details: 'DeltaSecrets is not implemented yet; use StreamSecrets' });
  };

  return { StreamSecrets, FetchSecrets, DeltaSecrets };
}
