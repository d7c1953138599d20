import type { TrustBundle, X509Svid } from '../rotation/x509-svid';

// The concatenated DER bundle goes into every message of every stream, and an SVID's chain into
// every message of each stream holding that identity: build each once per immutable snapshot.
const bundleCache = new WeakMap<TrustBundle, Buffer>();
const chainCache = new WeakMap<X509Svid, Buffer>();

function concatOnce<K extends object>(cache: WeakMap<K, Buffer>, key: K, parts: readonly Buffer[]): Buffer {
  let bytes = cache.get(key);
  if (!bytes) {
    bytes = Buffer.concat(parts as Buffer[]);
    cache.set(key, bytes);
  }
  return bytes;
}

export const bundleDer = (bundle: TrustBundle): Buffer => concatOnce(bundleCache, bundle, bundle.rootsDer);
export const chainDer = (svid: X509Svid): Buffer => concatOnce(chainCache, svid, svid.chainDer);

/** The Workload API keys bundles by trust domain ID: `spiffe://example.org`. */
export function trustDomainId(bundle: TrustBundle): string {
  return `spiffe://${bundle.trustDomain}`;
}
