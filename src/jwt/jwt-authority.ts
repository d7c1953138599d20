import type { Logger } from 'pino';
import { MeshidError } from '../common/errors';
import { SpiffeId } from '../identity/spiffe-id';
import { Backoff } from '../common/backoff';
import type { Clock, Timer } from '../common/clock';
import { loadJose, type Jose } from './jose';
import { generateJwtKeyPair, type JwtAlgorithm, type JwtKeyPair } from './jwt-algorithm';
import { bundleKey, type JwtBundle, type JwtBundleKey } from './jwt-bundle';
import { defaultPrepublishMs, jwtKeyTimes, retirementTime, tokenExpirySeconds, type JwtKeyTimes } from './jwt-key-schedule';
import { validateJwtSvid, type ValidatedJwtSvid } from './jwt-svid-validation';

export interface JwtAuthorityOptions {
  readonly trustDomain: string;
  readonly algorithm: JwtAlgorithm;
  /** Lifetime of each JWT-SVID. */
  readonly jwtTtlMs: number;
  /** How long each key signs before its successor takes over. */
  readonly keyTtlMs: number;
  /** How long a key is in the bundle before it signs; default keyTtlMs / 6. */
  readonly prepublishMs?: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random?: () => number;
  /** Key generation; tests may substitute one that fails. */
  readonly generateKeyPair?: (algorithm: JwtAlgorithm) => Promise<JwtKeyPair>;
}

export interface JwtSvid {
  readonly spiffeId: string;
  readonly token: string;
  readonly kid: string;
  readonly expiresAtMs: number;
}

interface ManagedKey {
  readonly pair: JwtKeyPair;
  readonly published: JwtBundleKey;
  readonly times: JwtKeyTimes;
  /** Expiry of the latest-expiring token it signed; decides when it may leave the bundle. */
  lastExpiresAtMs: number | undefined;
}

/**
 * The node's JWT-SVID signing authority: one active key signs, the bundle lists every key whose
 * tokens may still be presented. Keys live in memory only; a restarted agent starts a new key
 * and tokens signed before the restart no longer validate here.
 */
export class JwtAuthority {
  private published: ManagedKey[] = [];
  private active: ManagedKey | undefined;
  private current: JwtBundle;
  private jose: Jose | undefined;
  /** The next key, generated well before it is needed so publishing it is never late. */
  private spare: Promise<JwtKeyPair> | undefined;
  private readonly timers = new Set<Timer>();
  private readonly listeners = new Set<(bundle: JwtBundle) => void>();
  private readonly backoff: Backoff;
  private readonly prepublishMs: number;
  private stopped = false;

  constructor(private readonly options: JwtAuthorityOptions) {
    this.prepublishMs = options.prepublishMs ?? defaultPrepublishMs(options.keyTtlMs);
    if (!(this.prepublishMs > 0 && this.prepublishMs < options.keyTtlMs)) {
      throw new MeshidError('INVALID_CONFIG', 'jwt: the prepublish period must be positive and shorter than the key lifetime');
    }
    this.backoff = new Backoff(1_000, 60_000, options.random);
    this.current = { trustDomain: options.trustDomain, version: 0, keys: [] };
  }

  /** Generates the first key (it signs at once) and its successor, and loads jose. */
  async start(): Promise<void> {
    const [jose, first] = await Promise.all([loadJose(), this.generate()]);
    this.jose = jose;
    const key = this.publish(first, true);
    this.activate(key);
    void this.prepareSpare();
    // Not fatal if it fails: publishing the successor generates another.
    await this.settled();
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) timer.cancel();
    this.timers.clear();
  }

  get bundle(): JwtBundle {
    return this.current;
  }

  /** Listeners get each new bundle, once per key set change. */
  subscribe(listener: (bundle: JwtBundle) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once the spare key in preparation (if any) is ready or has failed. */
  async settled(): Promise<void> {
    await this.spare?.catch(() => undefined);
  }

  /** A JWT-SVID for `spiffeId` (in this trust domain), for the given audiences. */
  async sign(spiffeId: string, audience: readonly string[]): Promise<JwtSvid> {
    const id = SpiffeId.parse(spiffeId);
    if (id.trustDomain !== this.options.trustDomain || id.isRoot) {
      throw new MeshidError('INVALID_SPIFFE_ID', `cannot sign a JWT-SVID for ${spiffeId}: not a workload ID of trust domain ${this.options.trustDomain}`);
    }
    if (audience.length === 0) throw new MeshidError('INVALID_REQUEST', 'audience is required');
    const key = this.active;
    if (!key || !this.jose) throw new MeshidError('NOT_READY', 'JWT signing authority is not started');
    const nowMs = this.options.clock.now();
    const issuedAt = Math.floor(nowMs / 1000);
    const expiresAt = tokenExpirySeconds(nowMs, this.options.jwtTtlMs, key.times.notAfterMs);
    if (expiresAt <= issuedAt) {
      throw new MeshidError('NOT_READY', 'the JWT signing key has reached the end of its life and no successor could be generated yet');
    }
    // Recorded before the (asynchronous) signature, so a retirement decided meanwhile counts it.
    key.lastExpiresAtMs = Math.max(key.lastExpiresAtMs ?? 0, expiresAt * 1000);
    const token = await new this.jose.SignJWT({ aud: [...audience] })
      .setProtectedHeader({ alg: key.pair.algorithm, kid: key.published.kid, typ: 'JWT' })
      .setSubject(id.toString())
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(key.pair.privateKey);
    return { spiffeId: id.toString(), token, kid: key.published.kid, expiresAtMs: expiresAt * 1000 };
  }

  /** Checks a JWT-SVID against this trust domain's current bundle (see jwt-svid-validation.ts). */
  async validate(token: string, audience: string): Promise<ValidatedJwtSvid> {
    return validateJwtSvid(token, audience, { bundle: this.current, nowMs: this.options.clock.now(), jose: this.jose ?? (await loadJose()) });
  }

  private generate(): Promise<JwtKeyPair> {
    return (this.options.generateKeyPair ?? generateJwtKeyPair)(this.options.algorithm);
  }

  private prepareSpare(): Promise<JwtKeyPair> {
    const spare = this.generate();
    // A failure surfaces when the spare is needed; the catch only keeps it from being unhandled.
    spare.catch(() => undefined);
    this.spare = spare;
    return spare;
  }

  private publish(pair: JwtKeyPair, first: boolean): ManagedKey {
    const times = jwtKeyTimes(this.options.clock.now(), { keyTtlMs: this.options.keyTtlMs, prepublishMs: this.prepublishMs, jwtTtlMs: this.options.jwtTtlMs }, first);
    const key: ManagedKey = { pair, published: bundleKey(pair.publicKey, pair.algorithm), times, lastExpiresAtMs: undefined };
    this.published.push(key);
    this.options.logger.info({ kid: key.published.kid, alg: pair.algorithm, signsFrom: new Date(times.signsFromMs).toISOString() }, 'JWT signing key published');
    this.announce();
    return key;
  }

  private activate(key: ManagedKey): void {
    const previous = this.active;
    this.active = key;
    this.options.logger.info({ kid: key.published.kid }, 'JWT signing key active');
    this.at(key.times.successorPublishAtMs, () => void this.publishSuccessor());
    if (previous) this.at(retirementTime(this.options.clock.now(), previous.lastExpiresAtMs), () => this.retire(previous));
  }

  private async publishSuccessor(): Promise<void> {
    let pair: JwtKeyPair;
    // Kept in `spare` while in flight, so settled() covers a retry too.
    const pending = this.spare ?? this.prepareSpare();
    try {
      pair = await pending;
    } catch (error) {
      // The active key goes on signing (its tokens' expiry capped at its notAfter) meanwhile.
      const delay = this.backoff.nextDelayMs();
      this.options.logger.error({ err: error, retryInMs: Math.round(delay) }, 'JWT signing key generation failed');
      this.spare = undefined;
      this.at(this.options.clock.now() + delay, () => void this.publishSuccessor());
      return;
    }
    if (this.stopped) return;
    this.backoff.reset();
    const key = this.publish(pair, false);
    this.at(key.times.signsFromMs, () => this.activate(key));
    void this.prepareSpare();
  }

  private retire(key: ManagedKey): void {
    this.published = this.published.filter((candidate) => candidate !== key);
    this.options.logger.info({ kid: key.published.kid }, 'JWT signing key retired: every token it signed has expired');
    this.announce();
  }

  private announce(): void {
    this.current = { trustDomain: this.options.trustDomain, version: this.current.version + 1, keys: this.published.map((key) => key.published) };
    for (const listener of this.listeners) {
      try {
        listener(this.current);
      } catch (error) {
        this.options.logger.error({ err: error }, 'JWT bundle subscriber failed');
      }
    }
  }

  /** Runs `action` at `atMs` on the injected clock (at once if that has passed), unless stopped. */
  private at(atMs: number, action: () => void): void {
    if (this.stopped) return;
    const timer = this.options.clock.setTimer(atMs - this.options.clock.now(), () => {
      this.timers.delete(timer);
      if (!this.stopped) action();
    });
    this.timers.add(timer);
  }
}
