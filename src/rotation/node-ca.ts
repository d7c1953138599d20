import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { MeshidError } from '../common/errors';
import { createCaCertificate } from '../identity/ca-certificate';
import { generateKey, type KeyType } from '../identity/key-type';
import { LeafMinter, mintResources, type LeafMinting, type MintResources } from '../identity/leaf-minter';
import { keyObjectSigner } from '../identity/signer';
import { isIssuingUpstream, isLeafSigningUpstream, type AnyUpstream, type IssuingUpstream, type LeafSigningUpstream, type UpstreamAuthority } from '../upstream/upstream-authority';
import { Backoff } from '../common/backoff';
import type { Clock, Timer } from '../common/clock';
import { IssuedExpiryLedger } from './issued-expiry-ledger';
import { drawJitter, rotationTime } from './rotation-time';
import type { TrustBundle } from './x509-svid';

/** The node intermediate currently signing leaves. Immutable; rotation swaps in a new one. */
export interface SigningAuthority {
  readonly generation: number;
  /** Which upstream signed it: 1 for the upstream at start, +1 per root rotation switch. */
  readonly upstreamEpoch: number;
  readonly minter: LeafMinting;
  /** Node intermediate first, then upstream intermediates: appended to every leaf. */
  readonly chainDer: readonly Buffer[];
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

export interface NodeCaOptions {
  readonly upstream: AnyUpstream;
  readonly trustDomain: string;
  readonly caTtlMs: number;
  readonly leafKeyType: KeyType;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random?: () => number;
  /** Told of every failed attempt to get a new intermediate signed (metrics). */
  readonly onUpstreamError?: (error: unknown) => void;
  /** The mint gate and leaf key source every minter of this CA shares (default: one set per NodeCa). */
  readonly mintResources?: MintResources;
}

/** Backdating absorbs clock skew between this node and relying parties. */
export const BACKDATE_MS = 10_000;

/**
 * The node-local intermediate CA: minted from the upstream at start, held only in memory
 * (a node compromise exposes at most one short-lived, name-constrained intermediate), and
 * re-minted at half-life so the new one is active long before the old one expires.
 */
export class NodeCa {
  private readonly mintResources: MintResources;
  private active: SigningAuthority | undefined;
  private generation = 0;
  private upstream: AnyUpstream;
  private upstreamEpoch = 1;
  private currentBundle: TrustBundle;
  private timer: Timer | undefined;
  private readonly listeners = new Set<(authority: SigningAuthority) => void>();
  private readonly bundleListeners = new Set<(bundle: TrustBundle) => void>();
  private readonly backoff: Backoff;
  private stopped = false;
  /** Expiry of what each upstream epoch issued (root rotation waits on it before dropping roots). */
  readonly issued = new IssuedExpiryLedger();

  constructor(private readonly options: NodeCaOptions) {
    this.mintResources = options.mintResources ?? mintResources();
    this.backoff = new Backoff(1_000, 60_000, options.random);
    this.upstream = options.upstream;
    this.currentBundle = { trustDomain: options.trustDomain, version: 1, rootsDer: options.upstream.rootsDer };
  }

  /** The trust bundle served now; a root rotation replaces it with a higher version. */
  get bundle(): TrustBundle {
    return this.currentBundle;
  }

  /** The upstream the next intermediate will be signed by. */
  get currentUpstream(): AnyUpstream {
    return this.upstream;
  }

  get currentUpstreamEpoch(): number {
    return this.upstreamEpoch;
  }

  async start(): Promise<void> {
    this.install(await this.mintIntermediate(this.upstream, this.upstreamEpoch));
  }

  get authority(): SigningAuthority {
    if (!this.active) throw new MeshidError('NOT_READY', 'node CA is not active yet');
    return this.active;
  }

  /** Called after each intermediate rotation so leaves can be re-minted under the new one. */
  onRotate(listener: (authority: SigningAuthority) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Told of every new trust bundle (root rotation), after it is in place. */
  onBundleChange(listener: (bundle: TrustBundle) => void): () => void {
    this.bundleListeners.add(listener);
    return () => this.bundleListeners.delete(listener);
  }

  /** Serves `rootsDer` as the trust bundle from now on, under the next version. */
  publishRoots(rootsDer: readonly Buffer[]): TrustBundle {
    this.currentBundle = { trustDomain: this.options.trustDomain, version: this.currentBundle.version + 1, rootsDer: [...rootsDer] };
    for (const listener of this.bundleListeners) listener(this.currentBundle);
    return this.currentBundle;
  }

  /**
   * Signs with `next` from now on: mints an intermediate under it at once and tells the
   * rotation listeners, so every leaf is re-minted under the new chain. Throws (and keeps the
   * current upstream) if `next` cannot sign an intermediate.
   */
  async switchUpstream(next: UpstreamAuthority): Promise<SigningAuthority> {
    const authority = await this.mintIntermediate(next, this.upstreamEpoch + 1);
    if (this.stopped) return authority;
    this.upstream = next;
    this.upstreamEpoch = authority.upstreamEpoch;
    this.install(authority);
    this.options.logger.info({ generation: authority.generation, upstream: next.name, notAfter: new Date(authority.notAfterMs).toISOString() }, 'node intermediate minted under the new upstream');
    for (const listener of this.listeners) listener(authority);
    return authority;
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private install(authority: SigningAuthority): void {
    this.active = authority;
    this.backoff.reset();
    // Half-life from issuance, not from the backdated notBefore (see SvidStore.mint).
    const at = rotationTime(authority.notBeforeMs + BACKDATE_MS, authority.notAfterMs, drawJitter(this.options.random));
    this.schedule(at - this.options.clock.now());
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer?.cancel();
    this.timer = this.options.clock.setTimer(delayMs, () => void this.rotate());
  }

  private async rotate(): Promise<void> {
    const { logger } = this.options;
    const epoch = this.upstreamEpoch;
    try {
      const next = await this.mintIntermediate(this.upstream, this.upstreamEpoch);
      // A root rotation switched upstreams while this was being signed: the switch installed
      // its own intermediate, and this one chains to the superseded root.
      if (this.stopped || next.upstreamEpoch !== this.upstreamEpoch) return;
      this.install(next);
      logger.info({ generation: next.generation, notAfter: new Date(next.notAfterMs).toISOString() }, 'node intermediate rotated');
      for (const listener of this.listeners) listener(next);
    } catch (error) {
      if (epoch !== this.upstreamEpoch) return; // the old upstream failed after a switch replaced it
      // Keep signing with the current intermediate while it is valid; retry with backoff.
      this.options.onUpstreamError?.(error);
      const delay = this.backoff.nextDelayMs();
      logger.error({ err: error, retryInMs: Math.round(delay) }, 'node intermediate rotation failed');
      this.schedule(delay);
    }
  }

  private async mintIntermediate(upstream: AnyUpstream, upstreamEpoch: number): Promise<SigningAuthority> {
    if (isIssuingUpstream(upstream)) return this.obtainIntermediate(upstream, upstreamEpoch);
    if (isLeafSigningUpstream(upstream)) return this.remoteAuthority(upstream, upstreamEpoch);
    const { trustDomain, caTtlMs, clock, leafKeyType } = this.options;
    const now = clock.now();
    const upstreamNotAfter = Date.parse(new X509Certificate(upstream.signingCertificateDer).validTo);
    const notBeforeMs = now - BACKDATE_MS;
    // An intermediate cannot outlive the certificate that signed it.
    const notAfterMs = Math.min(now + caTtlMs, upstreamNotAfter);
    if (notAfterMs <= now) {
      throw new MeshidError('UPSTREAM', `upstream(${upstream.name}): signing certificate has expired`);
    }
    // The intermediate's own key is always P-256: it signs every leaf, so it sits on the hot path.
    const key = await generateKey('ec-p256');
    const certificateDer = await createCaCertificate({
      subjectCommonName: `meshid node CA ${trustDomain}`,
      subjectPublicKeySpkiDer: key.publicKeySpkiDer,
      issuer: { certificateDer: upstream.signingCertificateDer, signer: upstream.signer },
      trustDomain,
      notBefore: new Date(notBeforeMs),
      notAfter: new Date(notAfterMs),
      pathLength: 0,
      nameConstrainToTrustDomain: true,
    });
    this.generation++;
    this.issued.noteIntermediate(upstreamEpoch, notAfterMs);
    return {
      generation: this.generation,
      upstreamEpoch,
      minter: new LeafMinter({ certificateDer, signer: keyObjectSigner(key.privateKey) }, leafKeyType, this.mintResources),
      chainDer: [certificateDer, ...upstream.upstreamIntermediatesDer],
      notBeforeMs,
      notAfterMs,
    };
  }

  /**
   * The intermediate from an upstream that signs it itself (a SPIRE server's
   * NewDownstreamX509CA): its validity is whatever the issuer granted, and its name constraints
   * (if any) are the issuer's choice.
   */
  private async obtainIntermediate(upstream: IssuingUpstream, upstreamEpoch: number): Promise<SigningAuthority> {
    const key = await generateKey('ec-p256');
    const signer = keyObjectSigner(key.privateKey);
    const issued = await upstream.issueIntermediate({ signer, preferredTtlMs: this.options.caTtlMs });
    const certificate = new X509Certificate(issued.certificateDer);
    const notBeforeMs = Date.parse(certificate.validFrom);
    const notAfterMs = Date.parse(certificate.validTo);
    if (notAfterMs <= this.options.clock.now()) throw new MeshidError('UPSTREAM', `upstream(${upstream.name}): the issued intermediate has already expired`);
    this.generation++;
    this.issued.noteIntermediate(upstreamEpoch, notAfterMs);
    return {
      generation: this.generation,
      upstreamEpoch,
      minter: new LeafMinter({ certificateDer: issued.certificateDer, signer }, this.options.leafKeyType, this.mintResources),
      chainDer: [issued.certificateDer, ...issued.upstreamIntermediatesDer],
      notBeforeMs,
      notAfterMs,
    };
  }

  /**
   * No node intermediate: every leaf is signed upstream. The authority only bounds how long
   * leaves can be issued; it is looked at again at half of that, like an intermediate.
   */
  private remoteAuthority(upstream: LeafSigningUpstream, upstreamEpoch: number): SigningAuthority {
    const notBeforeMs = this.options.clock.now();
    const notAfterMs = upstream.signingNotAfterMs();
    if (notAfterMs <= notBeforeMs) throw new MeshidError('UPSTREAM', `upstream(${upstream.name}): its CA has expired`);
    this.generation++;
    this.issued.noteIntermediate(upstreamEpoch, notAfterMs);
    return { generation: this.generation, upstreamEpoch, minter: upstream.leafMinter, chainDer: [], notBeforeMs, notAfterMs };
  }
}
