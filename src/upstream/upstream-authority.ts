import type { LeafMinting } from '../identity/leaf-minter';
import type { CertificateSigner } from '../identity/signer';

/** What every upstream has: a name for its errors and the trust bundle. */
interface UpstreamBase {
  /** 'self-signed' | 'disk' | 'pkcs11' | 'spire'; prefixes its errors: `upstream(disk): …`. */
  readonly name: string;
  /** The trust bundle. */
  readonly rootsDer: readonly Buffer[];
  /**
   * Roots in rootsDer that sign nothing any more: a root rotation had switched away from them
   * when the agent stopped. They leave the bundle once leaves under them can have expired.
   */
  readonly retiredRootsDer?: readonly Buffer[];
  /** When every leaf under retiredRootsDer has expired, when the upstream knows (else: one `svid.ttl` after start). */
  readonly retiredLeavesExpireAtMs?: number;
  /** Releases what the upstream holds open (an HSM session); the agent calls it when it stops. */
  close?(): Promise<void>;
}

/** The CA above the node, holding a signing key: signs meshid's node intermediate and defines the trust bundle. */
export interface UpstreamAuthority extends UpstreamBase {
  /** The certificate whose key signs the node intermediate. */
  readonly signingCertificateDer: Buffer;
  readonly signer: CertificateSigner;
  /** Certificates between the node intermediate and a root, leaf-most first; served in chains. */
  readonly upstreamIntermediatesDer: readonly Buffer[];
}

/** The node intermediate's public half and the means to prove possession (a CSR signed with it). */
export interface IntermediateRequest {
  readonly signer: CertificateSigner;
  /** What meshid would like (`ca.ttl`); the issuer may cap it. */
  readonly preferredTtlMs: number;
}

export interface IssuedIntermediate {
  readonly certificateDer: Buffer;
  /** Certificates between it and a root, leaf-most first. */
  readonly upstreamIntermediatesDer: readonly Buffer[];
  /** The issuer's roots at the time of issue. */
  readonly rootsDer: readonly Buffer[];
}

/**
 * An upstream whose key meshid never holds (a SPIRE server, src/spire/): meshid sends
 * the node intermediate's public key and gets the signed certificate back. Its roots change on
 * its own schedule (the server's CA rotation), and the node follows them.
 */
export interface IssuingUpstream extends UpstreamBase {
  issueIntermediate(request: IntermediateRequest): Promise<IssuedIntermediate>;
  /** Told of every new set of roots, after it differs from the last one told. */
  onRootsChange(listener: (rootsDer: readonly Buffer[]) => void): () => void;
}

/**
 * An upstream that signs every leaf itself (a SPIRE server in mode server-signed): there is no
 * node intermediate; NodeCa hands its minter to the SVID store.
 */
export interface LeafSigningUpstream extends UpstreamBase {
  readonly leafMinter: LeafMinting;
  /** Until when leaves can be signed (the issuer's CA lifetime, as far as the node knows). */
  signingNotAfterMs(): number;
  onRootsChange(listener: (rootsDer: readonly Buffer[]) => void): () => void;
}

export type AnyUpstream = UpstreamAuthority | IssuingUpstream | LeafSigningUpstream;

export function isIssuingUpstream(upstream: AnyUpstream): upstream is IssuingUpstream {
  return 'issueIntermediate' in upstream;
}

export function isLeafSigningUpstream(upstream: AnyUpstream): upstream is LeafSigningUpstream {
  return 'leafMinter' in upstream;
}

/** Upstreams whose roots change on their own schedule (a SPIRE server's bundle). */
export function followsOwnRoots(upstream: AnyUpstream): upstream is IssuingUpstream | LeafSigningUpstream {
  return isIssuingUpstream(upstream) || isLeafSigningUpstream(upstream);
}
