/** One minted X.509-SVID as served: immutable; a rotation replaces the whole object. */
export interface X509Svid {
  readonly spiffeId: string;
  /** DER certificates, leaf first, then the node intermediate and any upstream intermediates. */
  readonly chainDer: readonly Buffer[];
  readonly privateKeyPkcs8Der: Buffer;
  readonly serialHex: string;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** When the store replaces it (half-life ± jitter). */
  readonly rotateAtMs: number;
}

/** The trust bundle (upstream roots) with a version that changes whenever the roots do. */
export interface TrustBundle {
  readonly trustDomain: string;
  readonly version: number;
  readonly rootsDer: readonly Buffer[];
}
