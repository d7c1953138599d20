import type { TrustBundle } from '../../rotation/x509-svid';

// The concatenated DER bundle goes into every message of every stream; build it once per version.
const cache = new WeakMap<TrustBundle, Buffer>();

export function bundleDer(bundle: TrustBundle): Buffer {
  let bytes = cache.get(bundle);
  if (!bytes) {
    bytes = Buffer.concat(bundle.rootsDer as Buffer[]);
    cache.set(bundle, bytes);
  }
  return bytes;
}

/** The Workload API keys bundles by trust domain ID: `spiffe://example.org`. */
export function trustDomainId(bundle: TrustBundle): string {
  return `spiffe://${bundle.trustDomain}`;
}
