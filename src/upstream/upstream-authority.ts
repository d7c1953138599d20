import type { CertificateSigner } from '../identity/signer';

/** The CA above the node: signs meshid's node intermediate and defines the trust bundle. */
export interface UpstreamAuthority {
  /** 'self-signed' | 'disk' | 'pkcs11'; prefixes its errors: `upstream(disk): …`. */
  readonly name: string;
  /** The certificate whose key signs the node intermediate. */
  readonly signingCertificateDer: Buffer;
  readonly signer: CertificateSigner;
  /** Certificates between the node intermediate and a root, leaf-most first; served in chains. */
  readonly upstreamIntermediatesDer: readonly Buffer[];
  /** The trust bundle. */
  readonly rootsDer: readonly Buffer[];
  /**
   * Roots in rootsDer that sign nothing any more: a root rotation had switched away from them
   * when the agent stopped. They leave the bundle once leaves under them can have expired.
   */
  readonly retiredRootsDer?: readonly Buffer[];
  /** Releases what the upstream holds open (an HSM session); the agent calls it when it stops. */
  close?(): Promise<void>;
}
