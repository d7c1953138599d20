import assert from 'node:assert/strict';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { DiscoveryResponse, SdsClient } from '../../support/envoy-protos';
import { StreamReader } from '../../support/workload-client';
import { decodeOfficialSecret, SECRET_TYPE_URL, type OfficialSecret } from './official-envoy';

/** DeltaDiscoveryResponse as the official protos decode it (keepCase, defaults). */
export interface DeltaResponse {
  system_version_info: string;
  resources: { name: string; version: string; aliases: string[]; resource: { type_url: string; value: Buffer } | null }[];
  type_url: string;
  removed_resources: string[];
  nonce: string;
}

export interface OpenStream<T> {
  readonly stream: ClientDuplexStream<object, T>;
  readonly reader: StreamReader<T>;
}

/** Streams to cancel after each file's tests, even when an assertion failed mid-test. */
export class StreamJanitor {
  private readonly cleanups: (() => void)[] = [];

  delta(client: SdsClient): OpenStream<DeltaResponse> {
    const stream = client.DeltaSecrets() as ClientDuplexStream<object, DeltaResponse>;
    this.cleanups.push(() => stream.cancel());
    return { stream, reader: new StreamReader<DeltaResponse>(stream) };
  }

  sotw(client: SdsClient): OpenStream<DiscoveryResponse> {
    const stream = client.StreamSecrets();
    this.cleanups.push(() => stream.cancel());
    return { stream, reader: new StreamReader<DiscoveryResponse>(stream) };
  }

  add(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  cleanAll(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }
}

export interface NodeOptions {
  /** user_agent_build_version major.minor; omitted: no build version at all. */
  readonly version?: readonly [number, number];
  /** Node metadata fields (google.protobuf.Struct values). */
  readonly metadata?: Readonly<Record<string, boolean | string>>;
}

/** An envoy.config.core.v3.Node as an Envoy fills it in. */
export function envoyNode(options: NodeOptions = {}): object {
  const fields: Record<string, object> = {};
  for (const [key, value] of Object.entries(options.metadata ?? {})) {
    // protobufjs bundles google.protobuf.Value with camelCase names, whatever keepCase says.
    fields[key] = typeof value === 'boolean' ? { boolValue: value } : { stringValue: value };
  }
  return {
    id: 'sidecar~10.0.0.1~web.default~default.svc.cluster.local',
    cluster: 'web',
    user_agent_name: 'envoy',
    metadata: { fields },
    ...(options.version ? { user_agent_build_version: { version: { major_number: options.version[0], minor_number: options.version[1], patch: 0 } } } : {}),
  };
}

/** A modern Envoy (the SPIFFE validator exists from 1.18). */
export const MODERN_ENVOY = envoyNode({ version: [1, 31] });

export function deltaRequest(fields: {
  subscribe?: string[];
  unsubscribe?: string[];
  initial?: Record<string, string>;
  nonce?: string;
  error?: string;
  node?: object;
  typeUrl?: string;
}): object {
  return {
    type_url: fields.typeUrl ?? SECRET_TYPE_URL,
    resource_names_subscribe: fields.subscribe ?? [],
    resource_names_unsubscribe: fields.unsubscribe ?? [],
    initial_resource_versions: fields.initial ?? {},
    response_nonce: fields.nonce ?? '',
    ...(fields.error ? { error_detail: { code: 3, message: fields.error } } : {}),
    ...(fields.node ? { node: fields.node } : {}),
  };
}

/** Each resource of a delta response decoded with Envoy's Secret type, checked against its name. */
export function deltaSecrets(response: DeltaResponse): Map<string, { version: string; secret: OfficialSecret }> {
  const decoded = new Map<string, { version: string; secret: OfficialSecret }>();
  for (const resource of response.resources) {
    if (!resource.resource) throw new Error(`resource ${resource.name} has no body`);
    const secret = decodeOfficialSecret(resource.resource);
    if (secret.name !== resource.name) throw new Error(`Resource.name ${resource.name} carries Secret.name ${secret.name}`);
    if (resource.version === '') throw new Error(`resource ${resource.name} has no version`);
    decoded.set(resource.name, { version: resource.version, secret });
  }
  return decoded;
}

let markers = 0;

/*
 * Markers: how a test proves a stream sent nothing, without waiting. Requests on one stream are
 * handled strictly in order (serve-stream.ts), and a response renders what was due when its
 * render started (a one-slot mailbox: latest-value-pusher.ts). So a response wrongly due before
 * the marker request is sent before the marker's answer, or shares one response with it; either
 * way the next response is not the marker's answer alone. Work that timers start is over before
 * a marker is sent because FakeClock.advance() awaits the agent's settled() (agent-harness.ts).
 */

/**
 * Delta: subscribes to a name that does not exist, which is answered by removed_resources naming
 * it alone, and ACKs that answer. The name stays subscribed and is never answered again (an
 * absent name is told once), so later responses are as they would have been.
 */
export async function assertNothingSentDelta({ stream, reader }: OpenStream<DeltaResponse>, what: string): Promise<void> {
  const marker = `meshid-test-marker-${++markers}`;
  stream.write(deltaRequest({ subscribe: [marker] }));
  const answer = await reader.next();
  assert.deepEqual({ resources: answer.resources.map((resource) => resource.name), removed: answer.removed_resources }, { resources: [], removed: [marker] }, `${what}: the next response is the marker's answer alone`);
  stream.write(deltaRequest({ nonce: answer.nonce }));
}

/**
 * State of the world: ACKs `latest` (the latest response taken) while changing the subscribed
 * names to `names`, which must differ from the names subscribed now; the answer is a response
 * carrying exactly `names`, while a response wrongly due before it carries the old names.
 * Returns the answer: later requests must carry its nonce (an older one is stale).
 */
export async function assertNothingSentSotw({ stream, reader }: OpenStream<DiscoveryResponse>, names: readonly string[], latest: DiscoveryResponse, what: string): Promise<DiscoveryResponse> {
  stream.write({ type_url: SECRET_TYPE_URL, resource_names: names, version_info: latest.version_info, response_nonce: latest.nonce });
  const answer = await reader.next();
  assert.deepEqual(answer.resources.map((resource) => decodeOfficialSecret(resource).name), names, `${what}: the next response is the marker's answer`);
  return answer;
}
