import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import pino from 'pino';
import { createCaCertificate } from '../../src/identity/ca-certificate';
import { generateKey } from '../../src/identity/key-type';
import { keyObjectSigner, type CertificateSigner } from '../../src/identity/signer';
import { BundleAckTracker } from '../../src/rotation/bundle-ack-tracker';
import { IssuedExpiryLedger } from '../../src/rotation/issued-expiry-ledger';
import type { NodeCa } from '../../src/rotation/node-ca';
import { ACK_WAIT_CAP_FACTOR, RootRotation, type RootRotationOptions } from '../../src/rotation/root-rotation';
import { summarizeRoot, type RotationPhase, type RotationTrigger } from '../../src/rotation/root-rotation-status';
import type { AnyUpstream, UpstreamAuthority } from '../../src/upstream/upstream-authority';
import type { UpstreamSuccessor } from '../../src/upstream/upstream-successor';
import { FakeClock } from '../support/fake-clock';

// The make-before-break state machine on a fake clock, against a node CA that records what the
// rotation asks of it. Every transition is observed through onPhase or the CA's records; a
// decision not to switch is synchronous in the timer or ACK callback, so "not yet" is checked
// right after the clock moved, without waiting.

const DELAY = 60_000;
const START = Date.UTC(2026, 0, 1);
const logger = pino({ level: 'silent' });

let oldRoot: Buffer;
let newRoot: Buffer;
let signer: CertificateSigner;

before(async () => {
  const key = await generateKey('ec-p256');
  signer = keyObjectSigner(key.privateKey);
  const root = (name: string): Promise<Buffer> =>
    createCaCertificate({ subjectCommonName: name, subjectPublicKeySpkiDer: key.publicKeySpkiDer, issuer: { signer }, trustDomain: 'example.org', notBefore: new Date(START - 3_600_000), notAfter: new Date(START + 30 * 86_400_000) });
  [oldRoot, newRoot] = await Promise.all([root('old root'), root('new root')]);
});

/** An upstream whose closing is recorded. */
function upstream(signing: Buffer, roots: readonly Buffer[]): UpstreamAuthority & { closed: number } {
  const made = {
    name: 'self-signed',
    rootsDer: roots,
    signingCertificateDer: signing,
    signer,
    upstreamIntermediatesDer: [],
    closed: 0,
    close: async () => {
      made.closed++;
    },
  };
  return made;
}

/** The NodeCa surface RootRotation uses, recording each call. */
class RecordingCa {
  currentUpstream: AnyUpstream;
  currentUpstreamEpoch = 1;
  bundle: { trustDomain: string; version: number; rootsDer: readonly Buffer[] };
  readonly issued = new IssuedExpiryLedger();
  readonly authority = { generation: 1 };
  readonly published: (readonly Buffer[])[] = [];
  readonly switchedTo: UpstreamAuthority[] = [];
  switchFails: Error | undefined;

  /** A leaf handed out under upstream epoch 1 (the initial upstream), valid until `notAfterMs`. */
  leafUnderOldUpstream(notAfterMs: number): void {
    this.issued.noteIntermediate(1, START + 30 * 86_400_000);
    this.issued.noteLeaf(1, notAfterMs);
  }

  constructor(initial: UpstreamAuthority) {
    this.currentUpstream = initial;
    this.bundle = { trustDomain: 'example.org', version: 1, rootsDer: initial.rootsDer };
  }

  publishRoots(rootsDer: readonly Buffer[]) {
    this.published.push(rootsDer);
    this.bundle = { ...this.bundle, version: this.bundle.version + 1, rootsDer: [...rootsDer] };
    return this.bundle;
  }

  async switchUpstream(next: UpstreamAuthority): Promise<void> {
    this.switchedTo.push(next); // recorded synchronously: the rotation decided to switch
    await Promise.resolve();
    if (this.switchFails) throw this.switchFails;
    this.currentUpstream = next;
    this.currentUpstreamEpoch++;
  }
}

/** A successor whose hooks are counted. */
function successorOf(next: UpstreamAuthority) {
  const calls = { switched: 0, completed: 0, discarded: 0 };
  const successor: UpstreamSuccessor = {
    upstream: next,
    onSwitched: async () => void calls.switched++,
    onCompleted: async () => void calls.completed++,
    discard: async () => void calls.discarded++,
  };
  return { successor, calls };
}

/** Phases as onPhase reports them; reached() resolves once `phase` has been entered `count` times. */
class Phases {
  readonly seen: RotationPhase[] = [];
  private waiters: { phase: RotationPhase; count: number; resolve: () => void }[] = [];
  readonly record = (phase: RotationPhase): void => {
    this.seen.push(phase);
    for (const waiter of this.waiters.filter((candidate) => this.times(candidate.phase) >= candidate.count)) waiter.resolve();
  };
  reached(phase: RotationPhase, count = 1): Promise<void> {
    if (this.times(phase) >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ phase, count, resolve }));
  }
  private times(phase: RotationPhase): number {
    return this.seen.filter((seen) => seen === phase).length;
  }
}

/** An SDS stream's ACK state as the tracker sees it. */
function ackingStream(acks: BundleAckTracker, label: string, servesBundle = true) {
  const state = { acked: undefined as number | undefined };
  const unregister = acks.register({ label, servesBundle: () => servesBundle, ackedBundleVersion: () => state.acked });
  return {
    ack(version: number) {
      state.acked = version;
      acks.changed();
    },
    unregister,
  };
}

function setup(prepare?: RootRotationOptions['prepare']) {
  const clock = new FakeClock(START);
  const previous = upstream(oldRoot, [oldRoot]);
  const ca = new RecordingCa(previous);
  const acks = new BundleAckTracker();
  const phases = new Phases();
  const next = upstream(newRoot, [newRoot]);
  const { successor, calls } = successorOf(next);
  const triggers: RotationTrigger[] = [];
  let completions = 0;
  const rotation = new RootRotation({
    ca: ca as unknown as NodeCa,
    acks,
    clock,
    logger,
    propagationDelayMs: DELAY,
    prepare:
      prepare ??
      (async (trigger) => {
        triggers.push(trigger);
        return successor;
      }),
    onPhase: phases.record,
    onCompleted: () => completions++,
  });
  return { clock, ca, acks, phases, previous, next, successor, calls, triggers, rotation, completions: () => completions };
}

test('publish, wait for the delay and every ACK, switch, drop when the last old leaf expires, complete', async () => {
  const { clock, ca, acks, phases, previous, next, calls, rotation, completions } = setup();
  const envoy = ackingStream(acks, 'SDS stream of pid 7');
  ackingStream(acks, 'SDS stream for default only', false); // serves no validation context: never waited for
  ca.leafUnderOldUpstream(START + 50 * 60_000); // valid for 50 more minutes

  const started = await rotation.request('admin');
  assert.equal(started.outcome, 'started');
  assert.deepEqual(ca.published, [[oldRoot, newRoot]], 'phase 1: bundles carry the old and the new root, old first');
  const publishing = rotation.status();
  assert.equal(publishing.phase, 'publishing');
  assert.equal(publishing.trigger, 'admin');
  assert.equal(publishing.bundleVersion, 2);
  assert.equal(publishing.switchNotBefore, new Date(START + DELAY).toISOString());
  assert.equal(publishing.switchDeadline, new Date(START + ACK_WAIT_CAP_FACTOR * DELAY).toISOString());
  assert.deepEqual(publishing.waitingForAcks, ['SDS stream of pid 7']);
  assert.deepEqual(publishing.oldRoots, [summarizeRoot(oldRoot)]);
  assert.deepEqual(publishing.newRoots, [summarizeRoot(newRoot)]);

  envoy.ack(2); // ACKed before the delay passed: the delay still holds
  assert.deepEqual(ca.switchedTo, [], 'an early ACK does not switch before the propagation delay');
  await clock.advance(DELAY - 1);
  assert.deepEqual(ca.switchedTo, [], 'not before the propagation delay');
  await clock.advance(1);
  assert.deepEqual(ca.switchedTo, [next], 'phase 2: switched once the delay passed and every stream ACKed');
  await phases.reached('switched');

  const switched = rotation.status();
  assert.equal(switched.phase, 'switched');
  assert.equal(switched.dropAt, new Date(START + 50 * 60_000).toISOString(), 'the old roots stay until the last leaf under them expires');
  assert.equal(switched.waitingForAcks, undefined);
  assert.equal(calls.switched, 1, 'the new upstream is persisted');
  assert.equal(calls.completed, 0);

  await clock.advance(50 * 60_000 - DELAY - 1);
  assert.equal(ca.published.length, 1, 'the old roots are not dropped before the last leaf under them expired');
  await clock.advance(1);
  assert.deepEqual(ca.published.at(-1), [newRoot], 'phase 3: the old root leaves the bundles');
  await phases.reached('idle', 2);
  assert.equal(ca.issued.lastExpiryUpTo(1), 0, 'the old epoch is forgotten');
  assert.equal(calls.completed, 1, 'the retired root files are removed');
  assert.equal(previous.closed, 1, 'the old upstream was released after the switch');
  assert.equal(completions(), 1);
  assert.deepEqual(phases.seen, ['idle', 'publishing', 'switched', 'idle']);
  const done = rotation.status();
  assert.equal(done.phase, 'idle');
  assert.equal(done.completedRotations, 1);
  assert.equal(done.oldRoots, undefined, 'an idle status describes no rotation');
});

test('without SDS streams the switch comes exactly at the propagation delay', async () => {
  const { clock, ca, phases, next, rotation } = setup();
  await rotation.request('admin');
  await clock.advance(DELAY - 1);
  assert.deepEqual(ca.switchedTo, []);
  await clock.advance(1);
  assert.deepEqual(ca.switchedTo, [next]);
  await phases.reached('switched');
});

test('a stream that never ACKs holds the switch until the cap, no longer; one that goes away counts as ACKed', async () => {
  const { clock, ca, acks, phases, rotation } = setup();
  ackingStream(acks, 'stuck Envoy');
  await rotation.request('admin');
  await clock.advance(DELAY);
  assert.deepEqual(ca.switchedTo, [], 'the delay passed, but a stream is behind');
  assert.deepEqual(rotation.status().waitingForAcks, ['stuck Envoy']);
  await clock.advance((ACK_WAIT_CAP_FACTOR - 1) * DELAY - 1);
  assert.deepEqual(ca.switchedTo, []);
  await clock.advance(1);
  assert.equal(ca.switchedTo.length, 1, 'switched at the cap although the stream never ACKed');
  await phases.reached('switched');

  const second = setup();
  const leaving = ackingStream(second.acks, 'Envoy that disconnects');
  await second.rotation.request('admin');
  await second.clock.advance(DELAY);
  assert.deepEqual(second.ca.switchedTo, []);
  leaving.unregister();
  assert.equal(second.ca.switchedTo.length, 1, 'a closed stream no longer holds the switch');
});

test('an ACK of an older bundle version does not count', async () => {
  const { clock, ca, acks, rotation } = setup();
  const envoy = ackingStream(acks, 'Envoy');
  envoy.ack(1);
  await rotation.request('admin');
  await clock.advance(DELAY);
  envoy.ack(1);
  assert.deepEqual(ca.switchedTo, [], 'version 1 lacks the new root');
  envoy.ack(2);
  assert.equal(ca.switchedTo.length, 1);
});

test('a request while a rotation is under way is refused; files changing meanwhile are looked at again once it completes', async () => {
  const { clock, phases, rotation, triggers } = setup();
  await rotation.request('admin');
  const refused = await rotation.request('admin');
  assert.deepEqual(refused, { outcome: 'refused', reason: 'in-progress', message: 'a root rotation is already in progress (phase publishing); wait for it to complete (GET /ca/rotation)' });
  const filesChanged = await rotation.request('files-changed');
  assert.equal(filesChanged.outcome, 'refused');
  assert.deepEqual(triggers, ['admin'], 'no successor is prepared for a refused request');

  await clock.advance(DELAY);
  await phases.reached('switched');
  await clock.advance(0); // no leaf was issued under the old upstream: the drop is due at once
  await phases.reached('idle', 2);
  assert.deepEqual(triggers, ['admin', 'files-changed'], 'the files are looked at again after completion');
});

test('a rejected successor is refused as invalid, the current upstream stays, and the error is reported until the next attempt', async () => {
  let fail = true;
  const next = upstream(newRoot, [newRoot]);
  const { ca, rotation } = setup(async () => {
    if (fail) throw new Error('upstream(disk): certFile does not match keyFile');
    return { upstream: next };
  });
  const refused = await rotation.request('files-changed');
  assert.deepEqual(refused, { outcome: 'refused', reason: 'invalid', message: 'the new upstream was rejected, the current one stays in use: upstream(disk): certFile does not match keyFile' });
  assert.equal(rotation.status().phase, 'idle');
  assert.equal(rotation.status().lastError, refused.outcome === 'refused' ? refused.message : '');
  assert.deepEqual(ca.published, []);

  fail = false;
  assert.equal((await rotation.request('admin')).outcome, 'started');
  assert.equal(rotation.status().lastError, undefined, 'a new attempt clears the last error');
});

test('the upstream already in use is refused as unchanged; what was staged for it is discarded', async () => {
  const same = upstream(oldRoot, [oldRoot]);
  const { successor, calls } = successorOf(same);
  const { ca, rotation, previous } = setup(async () => successor);
  const refused = await rotation.request('files-changed');
  assert.deepEqual(refused, { outcome: 'refused', reason: 'unchanged', message: 'the upstream CA is the one already in use; nothing to rotate' });
  assert.equal(calls.discarded, 1);
  assert.equal(same.closed, 1, 'the staged copy is released');
  assert.equal(previous.closed, 0, 'the upstream in use stays open');
  assert.deepEqual(ca.published, []);
  assert.equal(rotation.status().phase, 'idle');
  assert.equal(rotation.status().lastError, undefined, 'nothing went wrong');
});

test('a new upstream under roots already trusted switches at once, without publishing or a drop', async () => {
  const initial = upstream(oldRoot, [oldRoot, newRoot]);
  const clock = new FakeClock(START);
  const ca = new RecordingCa(initial);
  const phases = new Phases();
  const next = upstream(newRoot, [newRoot, oldRoot]);
  const { successor, calls } = successorOf(next);
  const rotation = new RootRotation({ ca: ca as unknown as NodeCa, acks: new BundleAckTracker(), clock, logger, propagationDelayMs: DELAY, prepare: async () => successor, onPhase: phases.record });
  assert.equal((await rotation.request('admin')).outcome, 'started');
  assert.deepEqual(ca.switchedTo, [next], 'no propagation wait: every relying party trusts the new chain already');
  await phases.reached('idle', 2);
  assert.deepEqual(phases.seen, ['idle', 'switched', 'idle']);
  assert.deepEqual(ca.published, [], 'the bundle never changes');
  assert.deepEqual(calls, { switched: 1, completed: 1, discarded: 0 });
  assert.equal(rotation.status().completedRotations, 1);
});

test('a new upstream that cannot sign abandons the rotation: the old roots alone again, the successor discarded', async () => {
  const { clock, ca, phases, previous, next, calls, rotation } = setup();
  ca.switchFails = new Error('CKR_DEVICE_REMOVED');
  await rotation.request('admin');
  await clock.advance(DELAY);
  await phases.reached('idle', 2);
  assert.deepEqual(ca.published, [[oldRoot, newRoot], [oldRoot]], 'the new root is taken back out of the bundles');
  assert.equal(calls.discarded, 1);
  assert.equal(next.closed, 1);
  assert.equal(calls.switched, 0);
  const status = rotation.status();
  assert.equal(status.phase, 'idle');
  assert.equal(status.completedRotations, 0);
  assert.equal(status.lastError, 'switching to the new upstream failed: CKR_DEVICE_REMOVED');
  assert.equal(ca.currentUpstream, previous, 'the old upstream stays in use');
  assert.deepEqual(phases.seen, ['idle', 'publishing', 'idle']);
});

test('a leaf minted under the old upstream after the drop was scheduled postpones the drop to its expiry', async () => {
  const { clock, ca, phases, rotation } = setup();
  ca.leafUnderOldUpstream(START + 30 * 60_000);
  await rotation.request('admin');
  await clock.advance(DELAY);
  await phases.reached('switched');
  assert.equal(rotation.status().dropAt, new Date(START + 30 * 60_000).toISOString());
  ca.leafUnderOldUpstream(START + 45 * 60_000); // a mint that began before the switch finished after it
  await clock.advance(30 * 60_000 - DELAY);
  assert.equal(ca.published.length, 1, 'not dropped while that leaf is valid');
  assert.equal(rotation.status().dropAt, new Date(START + 45 * 60_000).toISOString(), 'rescheduled to the new last expiry');
  await clock.advance(15 * 60_000);
  assert.deepEqual(ca.published.at(-1), [newRoot]);
  await phases.reached('idle', 2);
});

test('resumed after a restart in phase switched: the retired roots are dropped at dropAt', async () => {
  const initial = upstream(newRoot, [newRoot, oldRoot]);
  const clock = new FakeClock(START);
  const ca = new RecordingCa(initial);
  const phases = new Phases();
  const rotation = new RootRotation({ ca: ca as unknown as NodeCa, acks: new BundleAckTracker(), clock, logger, propagationDelayMs: DELAY, prepare: () => Promise.reject(new Error('not used')), onPhase: phases.record });
  let removed = 0;
  rotation.resumeDrop([oldRoot], START + 20 * 60_000, async () => void removed++);
  const status = rotation.status();
  assert.equal(status.phase, 'switched');
  assert.equal(status.trigger, 'resumed');
  assert.equal(status.dropAt, new Date(START + 20 * 60_000).toISOString());
  assert.deepEqual(status.newRoots, [summarizeRoot(newRoot)]);
  const refused = await rotation.request('admin');
  assert.equal(refused.outcome === 'refused' && refused.reason, 'in-progress');

  await clock.advance(20 * 60_000 - 1);
  assert.deepEqual(ca.published, []);
  await clock.advance(1);
  assert.deepEqual(ca.published, [[newRoot]]);
  await phases.reached('idle', 2);
  assert.equal(removed, 1);
  assert.equal(rotation.status().completedRotations, 1);
});

test('stop() cancels the waits: no switch afterwards, no timer left; a stopped agent starts no rotation', async () => {
  const { clock, ca, rotation } = setup();
  await rotation.request('admin');
  await rotation.stop();
  await clock.advance(ACK_WAIT_CAP_FACTOR * DELAY);
  assert.deepEqual(ca.switchedTo, []);
  assert.equal(clock.pendingTimers, 0, 'no timer left armed');

  const idle = setup();
  await idle.rotation.stop();
  const refused = await idle.rotation.request('admin');
  assert.deepEqual(refused, { outcome: 'refused', reason: 'in-progress', message: 'the agent is stopping' });
  assert.deepEqual(idle.ca.published, []);
});
