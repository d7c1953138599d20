import type { Logger } from 'pino';
import { MeshidError } from '../common/errors';
import { SpiffeId } from '../identity/spiffe-id';
import type { RegistrationEntry } from '../entries/entries';
import type { FederatedBundleSource } from '../identity/federated-bundles';
import { Backoff } from '../common/backoff';
import type { Clock, Timer } from '../common/clock';
import { BACKDATE_MS, type NodeCa } from './node-ca';
import { drawJitter, rotationTime } from './rotation-time';
import type { X509Svid } from './x509-svid';

/** Re-mints when a fresh SVID was already expired on arrival; bounded so a stuck clock cannot loop. */
const MAX_MINT_ATTEMPTS = 3;

export type StoreChange = { readonly kind: 'svid'; readonly spiffeId: string } | { readonly kind: 'bundle' };

export interface SvidStoreOptions {
  readonly ca: NodeCa;
  readonly svidTtlMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random?: () => number;
  /** Told of every SVID installed: the first for its ID, or a rotation (metrics). */
  readonly onIssued?: (spiffeId: string, kind: 'first' | 'rotation') => void;
  /** Other trust domains' bundles (a SPIRE server's federated bundles); a change is a bundle change. */
  readonly federated?: FederatedBundleSource;
}

/** What /debug/svids and the metrics read: never the key. */
export interface HeldSvidInfo {
  readonly spiffeId: string;
  readonly serialHex: string;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  readonly rotateAtMs: number;
}

interface Held {
  entry: RegistrationEntry;
  svid: X509Svid;
  timer: Timer;
  backoff: Backoff;
  /** Whether anyone read this SVID since it was installed (idle ones are not re-minted). */
  used: boolean;
}

/**
 * The current X.509-SVID per SPIFFE ID. Minted on first demand, re-minted with a fresh key at
 * half-life (and after every intermediate rotation), and announced to subscribers. An SVID past
 * its notAfter is never returned.
 */
export class SvidStore {
  private readonly held = new Map<string, Held>();
  private readonly inflight = new Map<string, Promise<X509Svid>>();
  private readonly listeners = new Set<(change: StoreChange) => void>();
  /** Mints, rotations and re-mints under way; settled() waits for them. */
  private readonly busy = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly options: SvidStoreOptions) {
    options.ca.onRotate(() => void this.track(this.remintAll()));
    // A root rotation publishing or dropping roots: every stream re-sends its bundle.
    options.ca.onBundleChange(() => this.publish({ kind: 'bundle' }));
    options.federated?.subscribe(() => this.publish({ kind: 'bundle' }));
  }

  get federated(): FederatedBundleSource | undefined {
    return this.options.federated;
  }

  get bundle() {
    return this.options.ca.bundle;
  }

  /** The entry's current SVID, minting it if there is none or it has expired. */
  async get(entry: RegistrationEntry): Promise<X509Svid> {
    const { clock, ca } = this.options;
    const current = this.held.get(entry.spiffeId);
    if (current && clock.now() < current.svid.notAfterMs) {
      current.used = true;
      return current.svid;
    }
    // A mint that started before its notAfter can finish after it (its issuer expired meanwhile,
    // or time jumped: a suspended host). Never hand that out; mint again while the CA is valid.
    for (let attempt = 0; attempt < MAX_MINT_ATTEMPTS; attempt++) {
      const minted = await this.mintFor(entry);
      const installed = this.held.get(entry.spiffeId);
      if (installed?.svid === minted) installed.used = true;
      if (clock.now() < minted.notAfterMs) return minted;
      if (clock.now() >= ca.authority.notAfterMs) break;
    }
    throw new MeshidError('NOT_READY', `no valid SVID for ${entry.spiffeId}: its signing CA has expired and could not be renewed yet`);
  }

  /** The SVIDs held now, in no particular order, without keys. */
  list(): HeldSvidInfo[] {
    return [...this.held.values()].map(({ svid }) => ({
      spiffeId: svid.spiffeId,
      serialHex: svid.serialHex,
      notBeforeMs: svid.notBeforeMs,
      notAfterMs: svid.notAfterMs,
      rotateAtMs: svid.rotateAtMs,
    }));
  }

  /** Subscribers hear which SPIFFE ID changed; they then read the latest state themselves. */
  subscribe(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Resolves once no mint is under way: every first mint, half-life rotation and re-mint after an
   * intermediate rotation started so far has installed its SVID (and told subscribers, who then
   * push on their own) or failed and scheduled its retry. Lets a test that advanced a fake clock
   * know the work the timers started is over, instead of waiting a fixed number of event-loop turns.
   */
  async settled(): Promise<void> {
    // Finishing work can start more (a re-mint waits for the mint it supersedes): loop until none.
    while (this.busy.size > 0) await Promise.allSettled([...this.busy]);
  }

  stop(): void {
    this.stopped = true;
    for (const held of this.held.values()) held.timer.cancel();
    this.held.clear();
  }

  private mintFor(entry: RegistrationEntry): Promise<X509Svid> {
    // Concurrent first calls from many workloads with the same identity share one mint.
    const pending = this.inflight.get(entry.spiffeId);
    if (pending) return pending;
    const minting = this.mint(entry).finally(() => this.inflight.delete(entry.spiffeId));
    this.inflight.set(entry.spiffeId, minting);
    return this.track(minting);
  }

  /** Counts `work` as under way until it settles (see settled()); returns it unchanged. */
  private track<T>(work: Promise<T>): Promise<T> {
    this.busy.add(work);
    const done = (): void => void this.busy.delete(work);
    work.then(done, done);
    return work;
  }

  private async mint(entry: RegistrationEntry): Promise<X509Svid> {
    const { ca, clock, svidTtlMs, random } = this.options;
    const authority = ca.authority;
    const now = clock.now();
    // The intermediate expired and could not be renewed (upstream gone): mint nothing rather than dead certificates.
    if (authority.notAfterMs <= now) throw new MeshidError('NOT_READY', `no valid SVID for ${entry.spiffeId}: its signing CA has expired and could not be renewed yet`);
    const notBeforeMs = now - BACKDATE_MS;
    // A leaf never outlives the intermediate that signs it.
    const notAfterMs = Math.min(now + svidTtlMs, authority.notAfterMs);
    ca.issued.noteLeaf(authority.upstreamEpoch, notAfterMs);
    const minted = await authority.minter.mint({
      spiffeId: SpiffeId.parse(entry.spiffeId),
      dnsNames: entry.dnsNames,
      notBefore: new Date(notBeforeMs),
      notAfter: new Date(notAfterMs),
    });
    // A leaf signed upstream (server-signed mode) carries the issuer's chain and validity.
    const remote = minted.issuerChainDer !== undefined;
    const validFromMs = remote ? minted.notBefore.getTime() : notBeforeMs;
    const validToMs = remote ? minted.notAfter.getTime() : notAfterMs;
    const svid: X509Svid = {
      spiffeId: entry.spiffeId,
      chainDer: [minted.certificateDer, ...(minted.issuerChainDer ?? authority.chainDer)],
      privateKeyPkcs8Der: minted.privateKeyPkcs8Der,
      serialHex: minted.serialHex,
      notBeforeMs: validFromMs,
      notAfterMs: validToMs,
      // Half of the lifetime from issuance (`now`), not from the backdated notBefore (ours, or the
      // server's in server-signed mode): counted from notBefore, a 10 s svid.ttl (the minimum)
      // rotated at issuance ± 2 s, i.e. continuously.
      rotateAtMs: rotationTime(now, validToMs, drawJitter(random)),
    };
    this.install(entry, svid, !remote && notAfterMs === authority.notAfterMs);
    return svid;
  }

  private install(entry: RegistrationEntry, svid: X509Svid, cappedByIssuer: boolean): void {
    const previous = this.held.get(entry.spiffeId);
    previous?.timer.cancel();
    if (this.stopped) return;
    const backoff = previous?.backoff ?? new Backoff(1_000, 30_000, this.options.random);
    backoff.reset();
    // Cut short by its intermediate's notAfter: a re-mint under the same intermediate could not
    // last longer (near the end it would repeat at once, forever). The intermediate's rotation
    // re-mints it (onRotate); if that never comes, the SVID is looked at again when it expires.
    const dueAt = cappedByIssuer ? svid.notAfterMs : svid.rotateAtMs;
    const timer = this.options.clock.setTimer(dueAt - this.options.clock.now(), () => void this.track(this.rotate(entry.spiffeId)));
    this.held.set(entry.spiffeId, { entry, svid, timer, backoff, used: false });
    this.options.onIssued?.(entry.spiffeId, previous ? 'rotation' : 'first');
    this.publish({ kind: 'svid', spiffeId: entry.spiffeId });
  }

  private async rotate(spiffeId: string): Promise<void> {
    const held = this.held.get(spiffeId);
    if (!held || this.stopped) return;
    // Nobody read it for a whole half-life: no open stream or file target holds this ID any
    // more (the pod left, the entry was removed). Stop rotating it; a later call mints anew.
    if (!held.used) {
      this.held.delete(spiffeId);
      this.options.logger.debug({ spiffeId }, 'SVID idle since its last rotation; dropped');
      return;
    }
    try {
      await this.mintFor(held.entry);
    } catch (error) {
      this.retryLater(held, error);
    }
  }

  /** Keeps serving the current SVID while it is valid; drops it at expiry if minting still fails. */
  private retryLater(held: Held, error: unknown): void {
    const { clock, logger } = this.options;
    const delay = held.backoff.nextDelayMs();
    const now = clock.now();
    logger.error({ err: error, spiffeId: held.entry.spiffeId, retryInMs: Math.round(delay) }, 'SVID rotation failed');
    if (now + delay >= held.svid.notAfterMs) {
      held.timer = clock.setTimer(held.svid.notAfterMs - now, () => this.expire(held.entry.spiffeId));
    } else {
      held.timer = clock.setTimer(delay, () => void this.track(this.rotate(held.entry.spiffeId)));
    }
  }

  private expire(spiffeId: string): void {
    const held = this.held.get(spiffeId);
    if (!held) return;
    this.held.delete(spiffeId);
    this.options.logger.error({ spiffeId }, 'SVID expired before it could be re-minted; no longer served');
    this.publish({ kind: 'svid', spiffeId });
  }

  private async remintAll(): Promise<void> {
    const entries = [...this.held.values()].map((held) => held.entry);
    await Promise.all(
      entries.map(async (entry) => {
        // A mint started before the rotation signs with the superseded intermediate; sharing
        // it would leave this ID on the old chain until its next half-life. Let it finish, then mint anew.
        await this.inflight.get(entry.spiffeId)?.catch(() => undefined);
        return this.mintFor(entry).catch((error: unknown) => {
          const held = this.held.get(entry.spiffeId);
          if (held) this.retryLater(held, error);
        });
      }),
    );
  }

  private publish(change: StoreChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.options.logger.error({ err: error }, 'store subscriber failed');
      }
    }
  }
}
