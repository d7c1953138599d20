import type { Logger } from 'pino';
import { MeshidError } from '../common/errors';
import { SpiffeId } from '../identity/spiffe-id';
import { Backoff } from '../common/backoff';
import type { Clock, Timer } from '../common/clock';
import { loadJose, type Jose } from './jose';
import { generateJwtKeyPair, type JwtAlgorithm, type JwtKeyPair } from './jwt-algorithm';
import { bundleKey, type JwtBundle, type JwtBundleKey } from './jwt-bundle';
import { defaultPrepublishMs, jwtKeyTimes, retirementTime, tokenExpirySeconds, type JwtKeyTimes } from './jwt-key-schedule';
import type { JwtKeyStore, StoredJwtKey } from './jwt-key-store';
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
  /**
   * Where keys are kept across restarts (JwtKeyFile: dataDir/jwt-keys.json). Each key is saved
   * before it is published or signs. Without one, keys live in memory only.
   */
  readonly store?: JwtKeyStore;
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
  /** The longest token lifetime any agent process signed with it (kept in the store). */
  readonly maxJwtTtlMs: number;
  /** Expiry of the latest-expiring token it signed; decides when it may leave the bundle. */
  lastExpiresAtMs: number | undefined;
}

/**
 * The node's JWT-SVID signing authority: one active key signs, the bundle lists every key whose
 * tokens may still be presented. With a store, the keys and their schedule survive a restart:
 * the restarted agent goes on with the same active key, and tokens signed before the restart
 * validate until they expire. Without one, keys live in memory only.
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
  /** Saves run one at a time, each writing the key set as it is when it runs. */
  private saving: Promise<void> = Promise.resolve();
  /** A successor being saved: in the store before it is published. */
  private pending: ManagedKey | undefined;

  constructor(private readonly options: JwtAuthorityOptions) {
    this.prepublishMs = options.prepublishMs ?? defaultPrepublishMs(options.keyTtlMs);
    if (!(this.prepublishMs > 0 && this.prepublishMs < options.keyTtlMs)) {
      throw new MeshidError('INVALID_CONFIG', 'jwt: the prepublish period must be positive and shorter than the key lifetime');
    }
    this.backoff = new Backoff(1_000, 60_000, options.random);
    this.current = { trustDomain: options.trustDomain, version: 0, keys: [] };
  }

  /**
   * Loads the stored keys, if any are still valid, and goes on with their schedule; otherwise
   * generates the first key (it signs at once). Then prepares the successor and loads jose.
   */
  async start(): Promise<void> {
    const nowMs = this.options.clock.now();
    const [jose, stored] = await Promise.all([loadJose(), this.options.store?.load() ?? Promise.resolve([])]);
    this.jose = jose;
    // Expired keys are pruned: every token they signed has expired.
    const usable = stored.filter((key) => key.times.notAfterMs > nowMs).sort((a, b) => a.times.signsFromMs - b.times.signsFromMs);
    const signing = usable.filter((key) => key.times.signsFromMs <= nowMs).at(-1);
    if (!signing) {
      const first = this.managed(await this.generate(), jwtKeyTimes(nowMs, this.scheduleOptions(), true));
      // Saved before it is published or signs (the unusable stored keys are dropped with it).
      this.published.push(first);
      await this.save();
      this.logPublished(first);
      this.announce();
      this.activate(first);
    } else {
      const restored = usable.map((key) => this.restored(key, nowMs, key === signing));
      // The active key's recorded token lifetime is raised before it signs with this agent's.
      this.published.push(...restored);
      await this.save();
      this.announce();
      const active = restored[usable.indexOf(signing)] as ManagedKey;
      const successor = restored.find((key) => key.times.signsFromMs > nowMs);
      this.activate(active, successor === undefined);
      if (successor) this.at(successor.times.signsFromMs, () => this.activate(successor));
      for (const older of restored.filter((key) => key.times.signsFromMs < active.times.signsFromMs)) {
        this.at(retirementTime(nowMs, older.lastExpiresAtMs), () => this.retire(older));
      }
      this.options.logger.info({ kids: restored.map((key) => key.published.kid), active: active.published.kid, dropped: stored.length - usable.length }, 'JWT signing keys loaded');
    }
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

  /** Resolves once the spare key in preparation (if any) is ready or has failed, and saves in flight are done. */
  async settled(): Promise<void> {
    await this.spare?.catch(() => undefined);
    await this.saving;
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

  private scheduleOptions() {
    return { keyTtlMs: this.options.keyTtlMs, prepublishMs: this.prepublishMs, jwtTtlMs: this.options.jwtTtlMs };
  }

  private managed(pair: JwtKeyPair, times: JwtKeyTimes): ManagedKey {
    return { pair, published: bundleKey(pair.publicKey, pair.algorithm), times, maxJwtTtlMs: this.options.jwtTtlMs, lastExpiresAtMs: undefined };
  }

  /**
   * A stored key. One that may have signed before the restart is kept until those tokens can
   * have expired: they were signed before now, with at most its recorded lifetime, and never
   * outlive its notAfter.
   */
  private restored(key: StoredJwtKey, nowMs: number, signsNow: boolean): ManagedKey {
    const mayHaveSigned = key.times.signsFromMs <= nowMs;
    return {
      pair: key.pair,
      published: bundleKey(key.pair.publicKey, key.pair.algorithm),
      times: key.times,
      maxJwtTtlMs: signsNow ? Math.max(key.maxJwtTtlMs, this.options.jwtTtlMs) : key.maxJwtTtlMs,
      lastExpiresAtMs: mayHaveSigned ? Math.min(key.times.notAfterMs, nowMs + key.maxJwtTtlMs) : undefined,
    };
  }

  private logPublished(key: ManagedKey): void {
    this.options.logger.info({ kid: key.published.kid, alg: key.pair.algorithm, signsFrom: new Date(key.times.signsFromMs).toISOString() }, 'JWT signing key published');
  }

  /**
   * Stores the published keys and the successor being saved (a no-op without a store). Saves
   * never overlap, and each takes the key set when it runs, so a later one never loses a key.
   */
  private save(): Promise<void> {
    const store = this.options.store;
    if (!store) return Promise.resolve();
    const saved = this.saving.then(() => {
      const keys = this.pending ? [...this.published, this.pending] : this.published;
      return store.save(keys.map((key): StoredJwtKey => ({ pair: key.pair, times: key.times, maxJwtTtlMs: key.maxJwtTtlMs })));
    });
    this.saving = saved.catch(() => undefined);
    return saved;
  }

  private activate(key: ManagedKey, publishSuccessor = true): void {
    const previous = this.active;
    this.active = key;
    this.options.logger.info({ kid: key.published.kid }, 'JWT signing key active');
    if (publishSuccessor) this.at(key.times.successorPublishAtMs, () => void this.publishSuccessor());
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
    const key = this.managed(pair, jwtKeyTimes(this.options.clock.now(), this.scheduleOptions(), false));
    this.pending = key;
    try {
      // Saved before anyone can see it: a token it signs must validate after a restart.
      await this.save();
    } catch (error) {
      this.pending = undefined;
      const delay = this.backoff.nextDelayMs();
      this.options.logger.error({ err: error, retryInMs: Math.round(delay) }, 'saving the new JWT signing key failed; the active key goes on signing');
      this.spare = Promise.resolve(pair); // the same key, tried again
      this.at(this.options.clock.now() + delay, () => void this.publishSuccessor());
      return;
    }
    this.pending = undefined;
    if (this.stopped) return;
    this.backoff.reset();
    this.published.push(key);
    this.logPublished(key);
    this.announce();
    this.at(key.times.signsFromMs, () => this.activate(key));
    void this.prepareSpare();
  }

  private retire(key: ManagedKey): void {
    this.published = this.published.filter((candidate) => candidate !== key);
    this.options.logger.info({ kid: key.published.kid }, 'JWT signing key retired: every token it signed has expired');
    this.announce();
    // Its private key need not be kept any more.
    this.save().catch((error: unknown) => this.options.logger.warn({ err: error }, 'removing a retired JWT signing key from the store failed; it goes at the next save'));
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
