/**
 * xDS messages, generated into src/generated/ (`npm run gen:proto`) with the loader options the
 * server uses: requests are typed as grpc-js hands them over (`__Output`); responses as this
 * agent builds them: every field set except the ones named below, which meshid never sets.
 */
import type { Node } from '../generated/envoy/config/core/v3/Node';
import type { DeltaDiscoveryRequest__Output } from '../generated/envoy/service/discovery/v3/DeltaDiscoveryRequest';
import type { DeltaDiscoveryResponse__Output } from '../generated/envoy/service/discovery/v3/DeltaDiscoveryResponse';
import type { DiscoveryRequest__Output } from '../generated/envoy/service/discovery/v3/DiscoveryRequest';
import type { DiscoveryResponse__Output } from '../generated/envoy/service/discovery/v3/DiscoveryResponse';
import type { Resource__Output } from '../generated/envoy/service/discovery/v3/Resource';
import type { Any__Output } from '../generated/google/protobuf/Any';
import type { Value } from '../generated/google/protobuf/Value';

export const SECRET_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

/** An encoded Secret: type_url and value are always both set. */
export type AnyMessage = Any__Output;

/**
 * A node as validator-choice reads it: the decoded one from a request, or any part of one (every
 * field optional: the input type). google.protobuf.Value is a well-known type, which protobufjs
 * bundles with camelCase field names (keepCase does not apply to them); `kind` names the field set.
 */
export type EnvoyNode = Node;
export type StructValue = Value;

export type DiscoveryRequest = DiscoveryRequest__Output;
/** `canary` is never set. */
export type DiscoveryResponse = Omit<DiscoveryResponse__Output, 'canary'>;

export type DeltaDiscoveryRequest = DeltaDiscoveryRequest__Output;
/** Each resource carries its Secret (never null); `aliases` is never set. */
export type DeltaResource = Omit<Resource__Output, 'aliases' | 'resource'> & { resource: AnyMessage };
export type DeltaDiscoveryResponse = Omit<DeltaDiscoveryResponse__Output, 'resources'> & { resources: DeltaResource[] };
