import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as pkcs11 from 'pkcs11js';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { capturedLogger } from '../support/captured-logger';
import { FakeClock } from '../support/fake-clock';
import { chainsTo, eventually, rotationStatus, StreamedWorkload } from '../support/rotation-traffic';
import { createSoftHsm, generateKeyInHsm, KEY_LABEL, selfSignedHsmCa, SOFTHSM_MODULE, TOKEN_LABEL, USER_PIN } from '../support/softhsm';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { needs } from '../support/tools';

/** A real SoftHSM v2 token holds both CA keys. */
const SOFTHSM = needs('softhsm2');

const MINUTE = 60_000;
const ID = 'spiffe://example.org/workload';
const ENTRIES = [{ spiffeId: ID, selectors: [`unix:uid:${process.getuid?.() ?? 0}`] }];
/** The operator stages the next key under this label, then swaps labels: the agent's keyLabel never changes. */
const NEXT_KEY_LABEL = 'upstream-ca-next';
const RETIRED_KEY_LABEL = 'upstream-ca-retired';

after(removeTempDirs);

/**
 * Runs `action` with the module the agent in this process holds initialized, never calling
 * C_Initialize or C_Finalize for it (C_Finalize would end the agent's sessions). When nothing in
 * this process has the module initialized, says so instead of running `action`.
 */
function withAgentsModule<T>(action: (module: pkcs11.PKCS11) => T): T | 'not initialized' {
  const module = new pkcs11.PKCS11();
  module.load(SOFTHSM_MODULE);
  try {
    try {
      module.C_Initialize();
    } catch (error) {
      if (!/CKR_CRYPTOKI_ALREADY_INITIALIZED/.test(String(error))) throw error;
      return action(module);
    }
    module.C_Finalize();
    return 'not initialized';
  } finally {
    module.close();
  }
}

/**
 * The PKCS#11 sessions open in this process, by handle. SoftHSM numbers sessions and objects
 * from one counter that starts at 1 with each C_Initialize, so the first few thousand handles
 * cover every session the agent opened (C_GetSessionInfo refuses anything that is not one).
 */
function openSessions(): number[] | 'not initialized' {
  return withAgentsModule((module) => {
    const open: number[] = [];
    for (let candidate = 1; candidate <= 4096; candidate++) {
      const handle = Buffer.alloc(8); // a CK_ULONG on the 64-bit little-endian hosts the tests run on
      handle.writeBigUInt64LE(BigInt(candidate));
      try {
        module.C_GetSessionInfo(handle);
        open.push(candidate);
      } catch {
        // Not a session handle.
      }
    }
    return open;
  });
}

/**
 * What an operator does in the HSM, while the agent runs: the key in use is relabelled away (it
 * stays in the token, so the old upstream could still sign) and the staged key takes its label.
 * Only the private keys are relabelled: they are what the agent looks up.
 */
function promoteNextKey(): void {
  const done = withAgentsModule((module) => {
    const slot = module.C_GetSlotList(true).find((candidate) => module.C_GetTokenInfo(candidate).label.trim() === TOKEN_LABEL);
    assert.ok(slot, `the token ${TOKEN_LABEL}`);
    const session = module.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION);
    try {
      try {
        module.C_Login(session, pkcs11.CKU_USER, USER_PIN);
      } catch (error) {
        if (!/CKR_USER_ALREADY_LOGGED_IN/.test(String(error))) throw error; // the agent's session logged in
      }
      const privateKey = (label: string): pkcs11.Handle => {
        module.C_FindObjectsInit(session, [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY }, { type: pkcs11.CKA_LABEL, value: label }]);
        const found = module.C_FindObjects(session, 2);
        module.C_FindObjectsFinal(session);
        assert.equal(found.length, 1, `one private key labelled ${label}`);
        return found[0] ?? Buffer.alloc(0);
      };
      const current = privateKey(KEY_LABEL);
      const next = privateKey(NEXT_KEY_LABEL);
      module.C_SetAttributeValue(session, current, [{ type: pkcs11.CKA_LABEL, value: RETIRED_KEY_LABEL }]);
      module.C_SetAttributeValue(session, next, [{ type: pkcs11.CKA_LABEL, value: KEY_LABEL }]);
    } finally {
      module.C_CloseSession(session); // not the last session: the agent stays logged in
    }
    return true;
  });
  assert.equal(done, true, 'the agent holds the module initialized');
}

const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

/** Each certificate of the chain (leaf first) is issued and signed by the next, the last by `rootPem`. */
function assertChainVerifies(chain: readonly X509Certificate[], rootPem: string): void {
  assert.equal(chain.length, 2, 'leaf + node intermediate: the HSM CA is the root');
  const links = [...chain, new X509Certificate(rootPem)];
  links.slice(0, -1).forEach((child, index) => {
    const parent = links[index + 1];
    assert.ok(parent && child.checkIssued(parent) && child.verify(parent.publicKey), `${child.subject} is signed by ${parent?.subject ?? 'nothing'}`);
  });
}

describe('pkcs11 upstream: a new key in the HSM and a new certFile rotate the root', { skip: SOFTHSM }, () => {
  let dir: string;
  let harness: Harness | undefined;
  let workload: StreamedWorkload | undefined;
  let clock: FakeClock;
  let rootA: string;
  let rootB: string;
  const { logger, records } = capturedLogger();
  const certFile = (): string => path.join(dir, 'upstream.pem');
  const live = (): { harness: Harness; workload: StreamedWorkload } => {
    assert.ok(harness && workload, 'the agent is running');
    return { harness, workload };
  };

  before(async () => {
    dir = await makeTempDir('meshid-rotation-pkcs11-');
    await createSoftHsm(dir);
    // Both keys are generated inside the token; each CA certificate is self-signed by the HSM.
    rootA = await selfSignedHsmCa(generateKeyInHsm('ec-p256', KEY_LABEL).publicKey, KEY_LABEL, 'HSM root A');
    rootB = await selfSignedHsmCa(generateKeyInHsm('ec-p256', NEXT_KEY_LABEL).publicKey, NEXT_KEY_LABEL, 'HSM root B');
    await writeFile(certFile(), rootA);
    await writeFile(path.join(dir, 'root-b.pem'), rootB);
    await writeFile(path.join(dir, 'hsm-pin'), `${USER_PIN}\n`, { mode: 0o600 });
    // The CA certificates are valid from the real now; the fake clock starts just after.
    clock = new FakeClock(Date.now() + 5_000);
    harness = await startTestAgent(
      {
        upstream: { type: 'pkcs11', module: SOFTHSM_MODULE, tokenLabel: TOKEN_LABEL, keyLabel: KEY_LABEL, pinFile: path.join(dir, 'hsm-pin'), certFile: certFile() },
        svid: { ttl: '1h' },
        ca: { ttl: '6h', rotationPropagationDelay: '1m' },
        entries: ENTRIES,
      },
      clock,
      { logger },
    );
    const started = new StreamedWorkload(harness.socketPath, ID);
    workload = started;
    await eventually(() => started.ready, 'the first SVID');
  });
  after(async () => {
    workload?.close();
    await harness?.agent.stop();
  });

  it('publishes both roots, switches to the new HSM key, closes the old session, drops the old root once its last SVID expired', async () => {
    const { harness: running, workload: streamed } = live();
    const admin = running.agent.adminAddress ?? '';
    assert.deepEqual(streamed.roots.map(fingerprint), [fingerprint(rootA)]);
    assertChainVerifies(streamed.chain, rootA);
    const oldLeafNotAfter = Date.parse(streamed.chain[0]?.validTo ?? '');
    const initial = openSessions();
    assert.ok(Array.isArray(initial) && initial.length === 1, `the agent holds one HSM session: ${String(initial)}`);

    // The operator: the staged key takes the label in the HSM, then certFile is replaced (renamed over).
    promoteNextKey();
    await copyFile(path.join(dir, 'root-b.pem'), `${certFile()}.tmp`);
    await rename(`${certFile()}.tmp`, certFile());
    await eventually(async () => (await rotationStatus(admin)).phase === 'publishing', 'the certFile change to start a rotation');
    assert.equal((await rotationStatus(admin)).trigger, 'files-changed');
    await eventually(() => streamed.roots.length === 2, 'old + new roots in the bundle');
    assert.deepEqual(streamed.roots.map(fingerprint).sort(), [fingerprint(rootA), fingerprint(rootB)].sort());
    assertChainVerifies(streamed.chain, rootA); // still the old root's SVID while the new root propagates
    const publishing = openSessions();
    assert.ok(Array.isArray(publishing) && publishing.length === 2 && publishing.includes(initial[0] ?? 0), `the old key's session and the new key's: ${String(publishing)}`);
    const successorSession = publishing.find((handle) => handle !== initial[0]);

    // After the propagation delay the new HSM key signs the node intermediate, and SVIDs re-mint under it.
    await clock.advance(MINUTE);
    await eventually(() => chainsTo(streamed.chain, rootB), 'the SVID re-minted under the new root');
    assertChainVerifies(streamed.chain, rootB);
    assert.equal(streamed.roots.length, 2, 'both roots while SVIDs under the old one are valid');
    // Once switched, the old upstream's HSM session is closed, and only that one.
    await eventually(() => JSON.stringify(openSessions()) !== JSON.stringify(publishing), 'the old upstream to be closed');
    assert.deepEqual(openSessions(), [successorSession], "the old key's session is closed; the new key's stays open (the module stays initialized)");

    const switched = await rotationStatus(admin);
    assert.equal(switched.phase, 'switched');
    const dropAt = Date.parse(switched.dropAt ?? '');
    assert.ok(dropAt >= oldLeafNotAfter, `the old root stays until the last SVID under it expires (${switched.dropAt ?? ''} ≥ ${new Date(oldLeafNotAfter).toISOString()})`);
    await clock.advance(dropAt - clock.now() - 1_000);
    assert.equal((await rotationStatus(admin)).phase, 'switched', 'a second before dropAt the old root is still trusted');
    assert.equal(streamed.roots.length, 2);
    await clock.advance(1_000);
    await eventually(() => streamed.roots.length === 1, 'the old root dropped');
    assert.deepEqual(streamed.roots.map(fingerprint), [fingerprint(rootB)]);
    assertChainVerifies(streamed.chain, rootB);
    let done = await rotationStatus(admin);
    await eventually(async () => (done = await rotationStatus(admin)).phase === 'idle', 'the rotation to complete');
    assert.equal(done.completedRotations, 1);
  });

  it('the new HSM key goes on signing node intermediates, without a failure', async () => {
    const { workload: streamed } = live();
    const intermediate = streamed.chain[1]?.serialNumber;
    // Past the half-life (± jitter) of the 6h node intermediate the switch signed.
    for (let step = 0; step < 30; step++) await clock.advance(10 * MINUTE);
    await eventually(() => streamed.chain[1]?.serialNumber !== intermediate, 'an SVID under the next node intermediate');
    assertChainVerifies(streamed.chain, rootB);
    const failures = records.filter((record) => record.msg === 'node intermediate rotation failed').map((record) => JSON.stringify(record.err));
    assert.deepEqual(failures, [], 'no HSM sign failed');
  });

  it('stopping the agent closes the last session and finalizes the module', async () => {
    const { harness: running, workload: streamed } = live();
    streamed.close();
    workload = undefined;
    await running.agent.stop();
    harness = undefined;
    assert.equal(openSessions(), 'not initialized');
  });
});
