import type { Logger } from 'pino';
import { followsOwnRoots, type AnyUpstream } from '../upstream/upstream-authority';
import type { UpstreamSuccessor } from '../upstream/upstream-successor';
import type { BundleAckTracker } from './bundle-ack-tracker';
import type { Clock, Timer } from '../common/clock';
import type { NodeCa } from './node-ca';
import { isoTime, summarizeRoot, type RotationPhase, type RotationStatus, type RotationTrigger } from './root-rotation-status';

export interface RootRotationOptions {
  readonly ca: NodeCa;
  readonly acks: BundleAckTracker;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long Workload API clients and file readers get to pick up a new bundle (no ACKs there). */
  readonly propagationDelayMs: number;
  /** The successor for a trigger; throws MeshidError('UPSTREAM') naming what is wrong with it. */
  readonly prepare: (trigger: RotationTrigger) => Promise<UpstreamSuccessor>;
  readonly onPhase?: (phase: RotationPhase) => void;
  readonly onCompleted?: () => void;
}

export type RotationRequestResult =
  | { readonly outcome: 'started'; readonly status: RotationStatus }
  | { readonly outcome: 'refused'; readonly reason: 'in-progress' | 'unchanged' | 'invalid'; readonly message: string };

/** An SDS stream that never ACKs (a NACKing or stuck Envoy) holds the switch this many delays at most. */
export const ACK_WAIT_CAP_FACTOR = 10;

interface Rotation {
  readonly trigger: RotationTrigger;
  readonly startedAtMs: number;
  readonly successor: UpstreamSuccessor;
  readonly previous: AnyUpstream;
  readonly previousEpoch: number;
  readonly oldRoots: readonly Buffer[];
  readonly newRoots: readonly Buffer[];
  publishedVersion?: number;
  switchNotBeforeMs?: number;
  switchDeadlineMs?: number;
  dropAtMs?: number;
  /** The switch's persistence (onSwitched), which completion must not overtake. */
  persisted?: Promise<void>;
}

/**
 * Replaces the upstream authority (and with it the trust bundle's roots) make-before-break:
 * publish old + new roots, wait until relying parties have them, switch signing to the new
 * upstream, wait until nothing signed under the old roots is still valid, drop the old roots.
 * At no point does a workload hold a certificate its peers' bundles cannot verify.
 */
export class RootRotation {
  private phase: RotationPhase = 'idle';
  private phaseSinceMs: number;
  private current: Rotation | undefined;
  private preparing = false;
  private completed = 0;
  private lastError: string | undefined;
  private timers: Timer[] = [];
  private unsubscribeAcks: (() => void) | undefined;
  private recheckFiles = false;
  private stopped = false;
  private readonly inflight = new Set<Promise<void>>();

  constructor(private readonly options: RootRotationOptions) {
    this.phaseSinceMs = options.clock.now();
    options.onPhase?.('idle');
  }

  /** Starts a rotation to the successor `trigger` yields, unless one is under way. */
  async request(trigger: RotationTrigger): Promise<RotationRequestResult> {
    const { ca, logger } = this.options;
    if (this.phase !== 'idle' || this.preparing) {
      // The files changed again mid-rotation: look at them once this rotation is complete.
      if (trigger === 'files-changed') this.recheckFiles = true;
      return this.refuse('in-progress', `a root rotation is already in progress (phase ${this.phase === 'idle' ? 'preparing' : this.phase}); wait for it to complete (GET /ca/rotation)`, 'warn');
    }
    this.preparing = true;
    let successor: UpstreamSuccessor;
    try {
      successor = await this.options.prepare(trigger);
    } catch (error) {
      return this.refuse('invalid', `the new upstream was rejected, the current one stays in use: ${error instanceof Error ? error.message : String(error)}`, 'error');
    } finally {
      this.preparing = false;
    }
    const previous = ca.currentUpstream;
    const oldRoots = ca.bundle.rootsDer;
    const newRoots = successor.upstream.rootsDer;
    if ('signingCertificateDer' in previous && successor.upstream.signingCertificateDer.equals(previous.signingCertificateDer) && sameSet(oldRoots, newRoots)) {
      await successor.discard?.();
      await successor.upstream.close?.();
      return this.refuse('unchanged', 'the upstream CA is the one already in use; nothing to rotate', 'info');
    }
    if (this.stopped) return this.refuse('in-progress', 'the agent is stopping', 'info');
    this.lastError = undefined;
    const rotation: Rotation = { trigger, startedAtMs: this.options.clock.now(), successor, previous, previousEpoch: ca.currentUpstreamEpoch, oldRoots, newRoots };
    this.current = rotation;
    const union = [...oldRoots, ...newRoots.filter((root) => !oldRoots.some((old) => old.equals(root)))];
    if (union.length === oldRoots.length) {
      logger.info({ trigger }, 'root rotation: the new upstream chains to roots already trusted; switching at once');
      this.track(this.switchOver(rotation));
    } else {
      this.publish(rotation, union);
    }
    return { outcome: 'started', status: this.status() };
  }

  /**
   * A restart interrupted a rotation after its switch: the upstream in use already is the new
   * one and `retiredRoots` are the old roots still in the bundle. Leaves under them were issued
   * before the restart, so they have all expired by `dropAtMs`.
   */
  resumeDrop(retiredRoots: readonly Buffer[], dropAtMs: number, onCompleted: () => Promise<void>): void {
    const { ca, clock, logger } = this.options;
    const oldRoots = ca.bundle.rootsDer;
    const upstream = ca.currentUpstream;
    if (followsOwnRoots(upstream)) return; // only a self-signed root is ever retired across a restart
    const rotation: Rotation = {
      trigger: 'resumed',
      startedAtMs: clock.now(),
      successor: { upstream, onCompleted },
      previous: upstream,
      previousEpoch: 0, // nothing issued in this process chains to the retired roots
      oldRoots,
      newRoots: oldRoots.filter((root) => !retiredRoots.some((retired) => retired.equals(root))),
      dropAtMs,
    };
    this.current = rotation;
    this.enter('switched');
    logger.info({ dropAt: isoTime(dropAtMs) }, 'root rotation: resumed after a restart; the retired roots stay in bundles until leaves under them have expired');
    this.timers.push(clock.setTimer(dropAtMs - clock.now(), () => this.dropWhenExpired(rotation)));
  }

  status(): RotationStatus {
    const rotation = this.current;
    const waitingForAcks = this.phase === 'publishing' && rotation?.publishedVersion !== undefined ? this.options.acks.behind(rotation.publishedVersion) : undefined;
    return {
      phase: this.phase,
      phaseSince: isoTime(this.phaseSinceMs),
      bundleVersion: this.options.ca.bundle.version,
      completedRotations: this.completed,
      ...(rotation
        ? {
            trigger: rotation.trigger,
            startedAt: isoTime(rotation.startedAtMs),
            oldRoots: rotation.oldRoots.map(summarizeRoot),
            newRoots: rotation.newRoots.map(summarizeRoot),
          }
        : {}),
      ...(this.phase === 'publishing' && rotation?.switchNotBeforeMs !== undefined ? { switchNotBefore: isoTime(rotation.switchNotBeforeMs) } : {}),
      ...(this.phase === 'publishing' && rotation?.switchDeadlineMs !== undefined ? { switchDeadline: isoTime(rotation.switchDeadlineMs) } : {}),
      ...(waitingForAcks ? { waitingForAcks } : {}),
      ...(this.phase === 'switched' && rotation?.dropAtMs !== undefined ? { dropAt: isoTime(rotation.dropAtMs) } : {}),
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
    };
  }

  /** Cancels the waits; resolves once a switch or completion under way has persisted its files. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearWaits();
    await Promise.all(this.inflight);
  }

  private track(work: Promise<void>): void {
    this.inflight.add(work);
    void work.finally(() => this.inflight.delete(work));
  }

  /** Phase 1: every bundle carries old and new roots; then wait for them to propagate. */
  private publish(rotation: Rotation, union: readonly Buffer[]): void {
    const { ca, clock, logger, propagationDelayMs, acks } = this.options;
    const bundle = ca.publishRoots(union);
    const now = clock.now();
    rotation.publishedVersion = bundle.version;
    rotation.switchNotBeforeMs = now + propagationDelayMs;
    rotation.switchDeadlineMs = now + ACK_WAIT_CAP_FACTOR * propagationDelayMs;
    this.enter('publishing');
    logger.info(
      { trigger: rotation.trigger, bundleVersion: bundle.version, newRoots: rotation.newRoots.map((der) => summarizeRoot(der).sha256), switchNotBefore: isoTime(rotation.switchNotBeforeMs) },
      'root rotation: publishing the new roots alongside the old ones',
    );
    const check = (): void => this.switchWhenPropagated(rotation);
    this.unsubscribeAcks = acks.onChange(check);
    this.timers.push(clock.setTimer(propagationDelayMs, check), clock.setTimer(ACK_WAIT_CAP_FACTOR * propagationDelayMs, check));
  }

  /** Phase 2: the delay has passed and every SDS client ACKed the new bundle (or the cap passed). */
  private switchWhenPropagated(rotation: Rotation): void {
    if (this.current !== rotation || this.phase !== 'publishing' || rotation.publishedVersion === undefined) return;
    const now = this.options.clock.now();
    if (now < (rotation.switchNotBeforeMs ?? 0)) return;
    const behind = this.options.acks.behind(rotation.publishedVersion);
    if (behind.length > 0 && now < (rotation.switchDeadlineMs ?? 0)) return;
    if (behind.length > 0) {
      this.options.logger.warn({ streams: behind, bundleVersion: rotation.publishedVersion }, 'root rotation: switching although these SDS streams never ACKed the bundle with the new roots (cap reached)');
    }
    this.clearWaits();
    this.track(this.switchOver(rotation));
  }

  /** Phase 3: the node intermediate (and so every leaf) moves under the new upstream. */
  private async switchOver(rotation: Rotation): Promise<void> {
    const { ca, logger } = this.options;
    try {
      // Persisted before the new upstream signs anything, so a restart after a kill at any point keeps trusting both.
      if (rotation.successor.onSwitching) await rotation.successor.onSwitching();
      await ca.switchUpstream(rotation.successor.upstream);
    } catch (error) {
      await this.abandon(rotation, error);
      return;
    }
    if (this.stopped) return;
    this.enter('switched');
    const nothingToDrop = rotation.newRoots.length === ca.bundle.rootsDer.length;
    rotation.persisted = (rotation.successor.onSwitched?.() ?? Promise.resolve()).catch((error: unknown) => logger.error({ err: error }, 'root rotation: persisting the new upstream failed; a restart would load the old one'));
    if (!nothingToDrop) this.scheduleDrop(rotation);
    await rotation.persisted;
    // The old upstream signs nothing any more; its HSM session (if any) can go.
    await rotation.previous.close?.().catch((error: unknown) => logger.warn({ err: error }, 'root rotation: closing the old upstream failed'));
    if (nothingToDrop) await this.complete(rotation); // no root left the trust set
  }

  private scheduleDrop(rotation: Rotation): void {
    const { ca, clock, logger } = this.options;
    // Leaves handed out under the old roots stay valid until their notAfter; until then peers need the old roots.
    const dropAtMs = Math.max(ca.issued.lastExpiryUpTo(rotation.previousEpoch), clock.now());
    rotation.dropAtMs = dropAtMs;
    logger.info({ dropAt: isoTime(dropAtMs), generation: ca.authority.generation }, 'root rotation: switched to the new upstream; old roots stay in bundles until the last leaf under them expires');
    this.timers.push(clock.setTimer(dropAtMs - clock.now(), () => this.dropWhenExpired(rotation)));
  }

  /** Phase 4: nothing valid chains to the old roots any more; bundles carry only the new ones. */
  private dropWhenExpired(rotation: Rotation): void {
    if (this.current !== rotation || this.stopped) return;
    this.clearWaits();
    // A mint that began before the switch may have finished since the drop was scheduled.
    if (this.options.ca.issued.lastExpiryUpTo(rotation.previousEpoch) > this.options.clock.now()) {
      this.scheduleDrop(rotation);
      return;
    }
    const bundle = this.options.ca.publishRoots(rotation.newRoots);
    this.options.ca.issued.forgetUpTo(rotation.previousEpoch);
    this.options.logger.info({ bundleVersion: bundle.version }, 'root rotation: dropping the old roots from bundles');
    this.track(this.complete(rotation));
  }

  private async complete(rotation: Rotation): Promise<void> {
    await rotation.persisted; // the switch's files first, or the retired root would be written after its removal
    await rotation.successor.onCompleted?.().catch((error: unknown) => this.options.logger.error({ err: error }, 'root rotation: removing the retired root files failed'));
    this.completed++;
    this.current = undefined;
    this.enter('idle');
    this.options.onCompleted?.();
    this.options.logger.info({ completedRotations: this.completed, bundleVersion: this.options.ca.bundle.version }, 'root rotation: complete');
    if (this.recheckFiles) {
      this.recheckFiles = false;
      void this.request('files-changed');
    }
  }

  /** The new upstream could not sign: take its roots back out and keep the old upstream. */
  private async abandon(rotation: Rotation, error: unknown): Promise<void> {
    const { ca, logger } = this.options;
    this.clearWaits();
    this.lastError = `switching to the new upstream failed: ${error instanceof Error ? error.message : String(error)}`;
    logger.error({ err: error }, 'root rotation: the new upstream could not sign the node intermediate; rotation abandoned, the old upstream stays in use');
    if (ca.bundle.rootsDer.length !== rotation.oldRoots.length) ca.publishRoots(rotation.oldRoots);
    await rotation.successor.discard?.().catch(() => undefined);
    await rotation.successor.upstream.close?.().catch(() => undefined);
    this.current = undefined;
    this.enter('idle');
  }

  private enter(phase: RotationPhase): void {
    this.phase = phase;
    this.phaseSinceMs = this.options.clock.now();
    this.options.onPhase?.(phase);
  }

  private clearWaits(): void {
    for (const timer of this.timers.splice(0)) timer.cancel();
    this.unsubscribeAcks?.();
    this.unsubscribeAcks = undefined;
  }

  private refuse(reason: 'in-progress' | 'unchanged' | 'invalid', message: string, level: 'info' | 'warn' | 'error'): RotationRequestResult {
    if (reason === 'invalid') this.lastError = message;
    this.options.logger[level]({ reason }, `root rotation refused: ${message}`);
    return { outcome: 'refused', reason, message };
  }
}

function sameSet(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  return a.length === b.length && a.every((der) => b.some((other) => other.equals(der)));
}
