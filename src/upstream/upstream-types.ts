import { diskUpstreamType, type DiskUpstreamConfig } from './disk-upstream';
import type { Pkcs11UpstreamConfig } from './pkcs11-upstream';
import { selfSignedUpstreamType, type SelfSignedUpstreamConfig } from './self-signed-type';
import type { UpstreamAuthority } from './upstream-authority';
import type { UpstreamSuccessor } from './upstream-successor';
import type { RotationTrigger, UpstreamContext, UpstreamType } from './upstream-type';

/**
 * The upstreams whose signing key this node reaches itself. (A SPIRE server is an upstream too,
 * but also a source of entries and bundles, so the agent joins it separately: src/spire/.)
 */
export type LocalUpstreamConfig = SelfSignedUpstreamConfig | ({ readonly type: 'disk' } & DiskUpstreamConfig) | ({ readonly type: 'pkcs11' } & Pkcs11UpstreamConfig);

type TypeTable = { readonly [Type in LocalUpstreamConfig['type']]: UpstreamType<Extract<LocalUpstreamConfig, { type: Type }>> };

/** One row per upstream type: the only place the type is switched on. */
const UPSTREAM_TYPES: TypeTable = {
  'self-signed': selfSignedUpstreamType,
  disk: diskUpstreamType,
  // Loaded only when configured: pkcs11js and its native module cost every other agent's start.
  pkcs11: {
    load: async (config, context, now) => (await loadPkcs11Type()).load(config, context, now),
    prepareSuccessor: async (config, context, now, trigger) => (await loadPkcs11Type()).prepareSuccessor(config, context, now, trigger),
    watchedFiles: (config) => [config.certFile, config.bundleFile].filter((file): file is string => file !== undefined),
  },
};

async function loadPkcs11Type(): Promise<UpstreamType<Pkcs11UpstreamConfig>> {
  return (await import('./pkcs11-upstream.js')).pkcs11UpstreamType;
}

function rowFor<Config extends LocalUpstreamConfig>(config: Config): UpstreamType<Config> {
  return UPSTREAM_TYPES[config.type] as unknown as UpstreamType<Config>;
}

/** Exactly one upstream per agent, chosen by config. Failures are MeshidError('UPSTREAM') naming the upstream: `upstream(disk): …`. */
export function loadUpstream(config: LocalUpstreamConfig, context: UpstreamContext, now: Date): Promise<UpstreamAuthority> {
  return rowFor(config).load(config, context, now);
}

/**
 * The upstream to rotate to. Self-signed: a new root, made now. Disk: certFile/keyFile/bundleFile
 * read again with every start-time check. PKCS#11: certFile read again and the key under the same
 * label opened again (the operator may have replaced it in the HSM).
 */
export function prepareSuccessor(config: LocalUpstreamConfig, context: UpstreamContext, now: Date, trigger: RotationTrigger): Promise<UpstreamSuccessor> {
  return rowFor(config).prepareSuccessor(config, context, now, trigger);
}

/** The files whose content defines the upstream (none for the self-signed one). */
export function upstreamFiles(config: LocalUpstreamConfig): string[] {
  return rowFor(config).watchedFiles(config);
}
