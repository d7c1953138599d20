import type { sendUnaryData, ServerUnaryCall, ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { StreamObserver } from '../serving/stream-observer';
import type { CallerResolver } from '../serving/caller-resolver';
import { MeshidError } from '../common/errors';
import { SpiffeId } from '../identity/spiffe-id';
import type { JwtAuthority } from '../jwt/jwt-authority';
import { jwksDocument } from '../jwt/jwt-bundle';
import { toServiceError } from '../serving/grpc-status';
import { checkAudiences } from '../serving/request-limits';
import type { JwtBundlesResponse, JwtSvidRequest, JwtSvidResponse, ValidateJwtSvidRequest, ValidateJwtSvidResponse } from './jwt-messages';
import { toStruct } from './protobuf-struct';
import { requireSecurityHeader } from './security-header';
import { serveWorkloadStream } from './workload-stream';

export interface JwtHandlerDependencies {
  readonly resolver: CallerResolver;
  readonly jwt: JwtAuthority;
  readonly logger: Logger;
  readonly observer?: StreamObserver;
}

/**
 * FetchJWTSVID, FetchJWTBundles and ValidateJWTSVID (SPIFFE Workload API spec, "JWT-SVID
 * profile"). As for the X.509 RPCs, every call needs the security header and a caller that is
 * attested and registered: the bundle (and validation against it) is for workloads, not for any
 * process that can reach the socket.
 */
export function jwtHandlers(deps: JwtHandlerDependencies): UntypedServiceImplementation {
  const refuse = (error: unknown) => {
    const status = toServiceError(error);
    deps.logger.debug({ code: status.code, reason: status.details }, 'workload API call refused');
    return status;
  };

  const unary =
    <Req, Res>(handle: (call: ServerUnaryCall<Req, Res>) => Promise<Res>) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      handle(call).then(
        (response) => callback(null, response),
        (error: unknown) => callback(refuse(error)),
      );
    };

  const fetchJwtSvid = async (call: ServerUnaryCall<JwtSvidRequest, JwtSvidResponse>): Promise<JwtSvidResponse> => {
    requireSecurityHeader(call.metadata);
    const audience = call.request.audience ?? [];
    checkAudiences(audience);
    if (audience.length === 0) throw new MeshidError('INVALID_REQUEST', 'audience is required');
    if (audience.some((value) => value === '')) throw new MeshidError('INVALID_REQUEST', 'audience must not contain an empty string');
    const wanted = call.request.spiffe_id ? SpiffeId.parse(call.request.spiffe_id).toString() : undefined;
    const workload = await deps.resolver.resolve(call.getPeer());
    const entries = wanted === undefined ? workload.entries : workload.entries.filter((entry) => entry.spiffeId === wanted);
    if (entries.length === 0) throw new MeshidError('NO_IDENTITY', `no identity issued: ${String(wanted)} is not an identity of this workload`);
    const svids = await Promise.all(entries.map((entry) => deps.jwt.sign(entry.spiffeId, audience)));
    return { svids: svids.map((svid, index) => ({ spiffe_id: svid.spiffeId, svid: svid.token, hint: entries[index]?.hint ?? '' })) };
  };

  const validateJwtSvid = async (call: ServerUnaryCall<ValidateJwtSvidRequest, ValidateJwtSvidResponse>): Promise<ValidateJwtSvidResponse> => {
    requireSecurityHeader(call.metadata);
    if (!call.request.audience) throw new MeshidError('INVALID_REQUEST', 'audience is required');
    checkAudiences([call.request.audience]);
    if (!call.request.svid) throw new MeshidError('INVALID_REQUEST', 'svid is required');
    await deps.resolver.resolve(call.getPeer());
    const validated = await deps.jwt.validate(call.request.svid, call.request.audience);
    return { spiffe_id: validated.spiffeId, claims: toStruct(validated.claims) };
  };

  // The kid list is the content: a message goes out only when the key set changed.
  const renderJwtBundles = async () => {
    const bundle = deps.jwt.bundle;
    return { fingerprint: bundle.keys.map((key) => key.kid).join(','), message: { bundles: { [`spiffe://${bundle.trustDomain}`]: jwksDocument(bundle) } } };
  };

  return {
    FetchJWTSVID: unary(fetchJwtSvid),
    ValidateJWTSVID: unary(validateJwtSvid),
    FetchJWTBundles: (call: ServerWritableStream<unknown, JwtBundlesResponse>): void =>
      void serveWorkloadStream(call, deps, { api: 'workload_jwt_bundles', render: renderJwtBundles, watch: (_current, notify) => deps.jwt.subscribe(notify) }),
  };
}
