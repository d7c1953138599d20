import { createHash } from 'node:crypto';
import type { Rendered } from '../common/latest-value-pusher';
import { peerMatchersKey } from '../entries/allowed-peers';
import type { SvidSource } from '../serving/svid-source';
import type { AnyMessage } from './messages';
import { tlsCertificateSecret, validationContextSecret, type FederatedTrustDomain } from './secret-encoder';
import type { SecretSource } from './secret-names';
import type { ValidatorForm } from './validator-choice';

/** One named Secret as served now, with a version derived from its content. */
export interface RenderedSecret {
  readonly name: string;
  readonly version: string;
  readonly resource: AnyMessage;
  /** The trust bundle version a validation context carries (root rotation waits for its ACK). */
  readonly bundleVersion?: number;
}

export interface RenderedSecrets {
  readonly resources: AnyMessage[];
  /** Content version: equal content → equal version, across streams and reconnects. */
  readonly version: string;
  /** The trust bundle version carried, when a validation context is among the resources. */
  readonly bundleVersion?: number;
}

/**
 * The current Secret for `name`. Versions hash what determines the content (certificate serial,
 * bundle version, validator form), so a reconnecting Envoy presenting a version it holds can be
 * recognised on any stream.
 */
export async function renderSecret(name: string, source: SecretSource, store: SvidSource, form: ValidatorForm): Promise<RenderedSecret> {
  if (source.kind === 'bundle') {
    const bundle = store.bundle;
    const effective: ValidatorForm = source.scope === 'roots' ? 'trusted-ca' : form;
    const federated = federatedBundles(source, store);
    const federatedVersion = source.federated?.length ? `/f${store.federated?.version ?? 0}` : '';
    // The allowed peers are part of the content: a change of them is a new version, pushed like any other.
    const peers = source.peers ?? [];
    const peersVersion = peers.length > 0 ? `/p${peerMatchersKey(peers)}` : '';
    return {
      name,
      version: contentVersion(`${name}=b${bundle.version}${federatedVersion}${peersVersion}/${effective}`),
      resource: validationContextSecret(name, source.scope === 'federated' ? undefined : bundle, effective, federated, federatedVersion, peers),
      bundleVersion: bundle.version,
    };
  }
  const svid = await store.get(source.entry);
  return { name, version: contentVersion(`${name}=${svid.serialHex}`), resource: tlsCertificateSecret(name, svid) };
}

/** The federated bundles a bundle source carries that the store holds now (absent ones are left out). */
function federatedBundles(source: { readonly federated?: readonly string[] }, store: SvidSource): FederatedTrustDomain[] {
  const held = store.federated?.current();
  if (!held || !source.federated) return [];
  return source.federated.flatMap((id) => {
    const rootsDer = held.get(id);
    return rootsDer ? [{ trustDomain: id.slice('spiffe://'.length), rootsDer }] : [];
  });
}

/** State of the world: every requested name, in request order, under one version. */
export async function renderSecrets(sources: ReadonlyMap<string, SecretSource>, store: SvidSource, form: ValidatorForm): Promise<Rendered<RenderedSecrets>> {
  const rendered = await Promise.all([...sources].map(([name, source]) => renderSecret(name, source, store, form)));
  const fingerprint = rendered.map((secret) => `${secret.name}@${secret.version}`).join(';');
  const bundleVersion = highestBundleVersion(rendered);
  return { fingerprint, message: { resources: rendered.map((secret) => secret.resource), version: contentVersion(fingerprint), ...(bundleVersion === undefined ? {} : { bundleVersion }) } };
}

/** The highest bundle version among `secrets`, undefined when none is a validation context. */
export function highestBundleVersion(secrets: readonly RenderedSecret[]): number | undefined {
  const versions = secrets.flatMap((secret) => (secret.bundleVersion === undefined ? [] : [secret.bundleVersion]));
  return versions.length === 0 ? undefined : Math.max(...versions);
}

export function contentVersion(fingerprint: string): string {
  return createHash('sha256').update(fingerprint).digest('hex').slice(0, 16);
}
