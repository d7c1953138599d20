import { createHash, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JwtAlgorithm } from './jwt-algorithm';

/** A public key as it appears in the JWT bundle (SPIFFE Trust Domain and Bundle spec §4.2.2). */
export interface JwtBundleKey {
  readonly kid: string;
  readonly algorithm: JwtAlgorithm;
  readonly publicKey: KeyObject;
  /** The JWK as served: the public parameters plus kid, alg and `use: "jwt-svid"`. */
  readonly jwk: Readonly<Record<string, string>>;
}

/** The trust domain's JWT authorities at one moment. Immutable; a key set change makes a new one. */
export interface JwtBundle {
  readonly trustDomain: string;
  /** Increases whenever the key set changes. */
  readonly version: number;
  readonly keys: readonly JwtBundleKey[];
}

// The bundle document goes into every FetchJWTBundles message: serialize each snapshot once.
const documentCache = new WeakMap<JwtBundle, Buffer>();

/** The bundle as the Workload API carries it: a JWKS document, `{"keys":[...]}`, UTF-8 JSON. */
export function jwksDocument(bundle: JwtBundle): Buffer {
  let bytes = documentCache.get(bundle);
  if (!bytes) {
    bytes = Buffer.from(JSON.stringify({ keys: bundle.keys.map((key) => key.jwk) }));
    documentCache.set(bundle, bytes);
  }
  return bytes;
}

/**
 * The JWK of a public key with its key ID: the RFC 7638 thumbprint (SHA-256 over the required
 * members in lexicographic order), so anyone holding the key can recompute the kid.
 */
export function bundleKey(publicKey: KeyObject, algorithm: JwtAlgorithm): JwtBundleKey {
  const exported = publicKey.export({ format: 'jwk' });
  const publicParameters = thumbprintMembers(exported);
  const kid = createHash('sha256').update(JSON.stringify(publicParameters)).digest('base64url');
  return { kid, algorithm, publicKey, jwk: { ...publicParameters, kid, alg: algorithm, use: 'jwt-svid' } };
}

function thumbprintMembers(jwk: JsonWebKey): Record<string, string> {
  const member = (name: keyof JsonWebKey): string => {
    const value = jwk[name];
    if (typeof value !== 'string') throw new Error(`exported JWK lacks "${String(name)}"`);
    return value;
  };
  if (jwk.kty === 'EC') return { crv: member('crv'), kty: 'EC', x: member('x'), y: member('y') };
  if (jwk.kty === 'RSA') return { e: member('e'), kty: 'RSA', n: member('n') };
  throw new Error(`unsupported JWK key type ${String(jwk.kty)}`);
}
