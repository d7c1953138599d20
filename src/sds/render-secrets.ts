import { createHash } from 'node:crypto';
import type { Rendered } from '../rotation/latest-value-pusher';
import type { SvidStore } from '../rotation/svid-store';
import type { AnyMessage } from './messages';
import { tlsCertificateSecret, validationContextSecret } from './secret-encoder';
import type { SecretSource } from './secret-names';

export interface RenderedSecrets {
  readonly resources: AnyMessage[];
  /** Content version: equal content → equal version, across streams and reconnects. */
  readonly version: string;
}

/** The current Secret for each requested name, in request order. */
export async function renderSecrets(sources: ReadonlyMap<string, SecretSource>, store: SvidStore): Promise<Rendered<RenderedSecrets>> {
  const resources: AnyMessage[] = [];
  const parts: string[] = [];
  for (const [name, source] of sources) {
    if (source.kind === 'bundle') {
      const bundle = store.bundle;
      resources.push(validationContextSecret(name, bundle));
      parts.push(`${name}=b${bundle.version}`);
    } else {
      const svid = await store.get(source.entry);
      resources.push(tlsCertificateSecret(name, svid));
      parts.push(`${name}=${svid.serialHex}`);
    }
  }
  const fingerprint = parts.join(';');
  const version = createHash('sha256').update(fingerprint).digest('hex').slice(0, 16);
  return { fingerprint, message: { resources, version } };
}
