import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import pino from 'pino';
import * as pkcs11 from 'pkcs11js';
import { parseConfig } from '../../src/agent/config/load';
import { isMeshidError } from '../../src/common/errors';
import { NodeCa, type SigningAuthority } from '../../src/rotation/node-ca';
import { loadConfiguredUpstream } from '../../src/agent/configured-upstream';
import type { UpstreamAuthority } from '../../src/upstream/upstream-authority';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { FakeClock } from '../support/fake-clock';
import { AgentProcesses, meshid } from '../support/meshid-cli';
import { openssl } from '../support/openssl';
import { derCertificatesToPem, pemBlocks } from '../support/pem';
import { createSoftHsm, generateKeyInHsm, KEY_LABEL, selfSignedHsmCa, SO_PIN, SOFTHSM_MODULE, softhsmUtil, TOKEN_LABEL, USER_PIN, type HsmKeyType, type SoftHsm } from '../support/softhsm';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { needs } from '../support/tools';
import { securityHeader, StreamReader, workloadClient, type X509SvidResponse } from '../support/workload-client';
import { assertSignsVerifiableIntermediate } from './chain-check';

const MINUTE = 60_000;
/** Every test here drives a real SoftHSM v2 token; openssl checks what it signs. */
const SOFTHSM = { skip: needs('softhsm2', 'openssl') };
const KEY_TYPES: HsmKeyType[] = ['ec-p256', 'rsa-3072'];
/** A shared object that is not a PKCS#11 module (no C_GetFunctionList): the peer-credentials addon. */
const NOT_A_PKCS11_MODULE = path.join(__dirname, '..', '..', '..', 'build', 'Release', 'peer_credentials.node');

/** Whatever a test opened, released after it so the next test's C_Initialize reads its own SOFTHSM2_CONF. */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
after(removeTempDirs);

interface Fixture {
  readonly hsm: SoftHsm;
  readonly dir: string;
  /** The upstream config pointing at this test's token, key, PIN and CA certificate. */
  readonly upstream: Record<string, unknown>;
  readonly caPem: string;
}

/** A fresh token holding a key generated inside it, and a CA certificate for that key signed by the HSM. */
async function hsmWithCa(keyType: HsmKeyType): Promise<Fixture> {
  const dir = await makeTempDir('meshid-pkcs11-');
  const hsm = await createSoftHsm(dir);
  const { publicKey, neverLeftTheToken } = generateKeyInHsm(keyType);
  assert.ok(neverLeftTheToken, 'the CA key is generated in the token and marked never extractable, always sensitive');
  const caPem = await selfSignedHsmCa(publicKey);
  await writeFile(path.join(dir, 'upstream.pem'), caPem);
  await writeFile(path.join(dir, 'hsm-pin'), `${USER_PIN}\n`, { mode: 0o600 });
  return { hsm, dir, caPem, upstream: { type: 'pkcs11', module: SOFTHSM_MODULE, tokenLabel: TOKEN_LABEL, keyLabel: KEY_LABEL, pinFile: 'hsm-pin', certFile: 'upstream.pem' } };
}

function configFor(fixture: Fixture, upstream: Record<string, unknown> = {}) {
  return parseConfig({ trustDomain: 'example.org', dataDir: 'data', socketPath: 'agent.sock', upstream: { ...fixture.upstream, ...upstream } }, { baseDir: fixture.dir });
}

async function load(fixture: Fixture, upstream: Record<string, unknown> = {}): Promise<UpstreamAuthority> {
  const loaded = await loadConfiguredUpstream(configFor(fixture, upstream), new Date());
  cleanups.push(async () => loaded.close?.());
  return loaded;
}

/** Loading must fail with MeshidError('UPSTREAM', 'upstream(pkcs11): …'), without the PIN, and leave the module finalized. */
async function assertFails(fixture: Fixture, upstream: Record<string, unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(load(fixture, upstream), (error: unknown) => {
    assert.ok(isMeshidError(error, 'UPSTREAM'), String(error));
    assert.match(error.message, /^upstream\(pkcs11\): /);
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes(USER_PIN) && !error.message.includes(SO_PIN), `no PIN in: ${error.message}`);
    return true;
  });
  assertModuleFinalized();
}

/** A failed start must not leave the module initialized: a fresh C_Initialize succeeds. */
function assertModuleFinalized(): void {
  const module = new pkcs11.PKCS11();
  module.load(SOFTHSM_MODULE);
  module.C_Initialize(); // throws CKR_CRYPTOKI_ALREADY_INITIALIZED if the upstream left it open
  module.C_Finalize();
  module.close();
}

async function signatureAlgorithmOf(certificatePem: string, dir: string): Promise<string> {
  await writeFile(path.join(dir, 'inspect.pem'), certificatePem);
  const text = await openssl(['x509', '-in', 'inspect.pem', '-noout', '-text'], dir);
  assert.ok(text.ok, text.output);
  return /Signature Algorithm: (\S+)/.exec(text.output)?.[1] ?? '';
}

for (const keyType of KEY_TYPES) {
  describe(`a ${keyType} CA key generated inside SoftHSM`, SOFTHSM, () => {
    test('signs a node intermediate that openssl verifies against the HSM CA', async () => {
      const fixture = await hsmWithCa(keyType);
      const upstream = await load(fixture);
      assert.equal(upstream.name, 'pkcs11');
      const caDer = Buffer.from(new X509Certificate(fixture.caPem).raw);
      assert.deepEqual(upstream.signingCertificateDer, caDer);
      assert.deepEqual(upstream.rootsDer, [caDer]);
      assert.deepEqual(upstream.upstreamIntermediatesDer, []);
      await assertSignsVerifiableIntermediate(upstream, fixture.dir);
      const nodeCaPem = await readFile(path.join(fixture.dir, 'node-ca.pem'), 'utf8');
      assert.equal(await signatureAlgorithmOf(nodeCaPem, fixture.dir), keyType === 'ec-p256' ? 'ecdsa-with-SHA256' : 'sha256WithRSAEncryption');
    });

    test('a full agent serves SVIDs whose chain openssl verifies up to the HSM CA', async () => {
      const fixture = await hsmWithCa(keyType);
      const uid = process.getuid?.() ?? 0;
      const harness: Harness = await startTestAgent({
        upstream: { ...fixture.upstream, pinFile: path.join(fixture.dir, 'hsm-pin'), certFile: path.join(fixture.dir, 'upstream.pem') },
        entries: [{ spiffeId: 'spiffe://example.org/hsm-backed', selectors: [`unix:uid:${uid}`] }],
      });
      cleanups.push(() => harness.agent.stop());
      const client = workloadClient(harness.socketPath);
      const reader = new StreamReader<X509SvidResponse>(client.FetchX509SVID({}, securityHeader()));
      cleanups.push(async () => {
        reader.call.cancel();
        client.close();
      });
      const { svids } = await reader.next();
      const svid = svids[0];
      assert.ok(svid);
      assert.equal(svid.spiffe_id, 'spiffe://example.org/hsm-backed');
      const [leaf = '', ...intermediates] = pemBlocks(derCertificatesToPem(svid.x509_svid));
      assert.equal(intermediates.length, 1, 'leaf + node intermediate: the HSM CA is the root');
      const bundlePem = derCertificatesToPem(svid.bundle);
      assert.equal(pemBlocks(bundlePem).length, 1);
      assert.equal(new X509Certificate(bundlePem).fingerprint256, new X509Certificate(fixture.caPem).fingerprint256, 'the bundle is the HSM CA');
      await writeFile(path.join(harness.dir, 'leaf.pem'), leaf);
      await writeFile(path.join(harness.dir, 'intermediates.pem'), intermediates.join(''));
      await writeFile(path.join(harness.dir, 'bundle.pem'), bundlePem);
      const verified = await openssl(['verify', '-CAfile', 'bundle.pem', '-untrusted', 'intermediates.pem', 'leaf.pem'], harness.dir);
      assert.ok(verified.ok, verified.output);
      assert.match(verified.output, /leaf\.pem: OK/);
      assert.equal(await signatureAlgorithmOf(intermediates[0] ?? '', harness.dir), keyType === 'ec-p256' ? 'ecdsa-with-SHA256' : 'sha256WithRSAEncryption', 'the node intermediate was signed by the HSM key');
    });
  });
}

test('an HSM key certified by an operator root (openssl) works as an intermediate with bundleFile', SOFTHSM, async () => {
  const dir = await makeTempDir('meshid-pkcs11-');
  await createSoftHsm(dir);
  const { publicKey } = generateKeyInHsm('ec-p256');
  await writeFile(path.join(dir, 'hsm-pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  await writeFile(path.join(dir, 'hsm-pin'), USER_PIN);
  await writeFile(path.join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  const sh = async (args: string[]): Promise<void> => {
    const result = await openssl(args, dir);
    assert.ok(result.ok, `openssl ${args.join(' ')}: ${result.output}`);
  };
  await sh(['req', '-x509', '-newkey', 'rsa:3072', '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-days', '3650', '-subj', '/CN=offline root']);
  // The HSM key cannot sign a CSR through openssl here (no PKCS#11 engine installed), so the
  // root certifies its public key directly: -force_pubkey replaces the placeholder CSR's key.
  await sh(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'placeholder.key', '-out', 'hsm.csr', '-subj', '/CN=HSM issuing CA']);
  await sh(['x509', '-req', '-in', 'hsm.csr', '-force_pubkey', 'hsm-pub.pem', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-days', '365', '-sha256', '-extfile', 'ca.ext', '-out', 'hsm-ca.pem']);
  const fixture: Fixture = { hsm: { dir, confFile: '', tokenDir: '' }, dir, caPem: '', upstream: { type: 'pkcs11', module: SOFTHSM_MODULE, tokenLabel: TOKEN_LABEL, keyLabel: KEY_LABEL, pinFile: 'hsm-pin', certFile: 'hsm-ca.pem' } };

  await assertFails(fixture, {}, /certFile .*hsm-ca\.pem is not self-signed \(an intermediate\), so bundleFile must hold the root/);
  const upstream = await load(fixture, { bundleFile: 'root.pem' });
  const der = async (file: string): Promise<Buffer> => Buffer.from(new X509Certificate(await readFile(path.join(dir, file))).raw);
  assert.deepEqual(upstream.upstreamIntermediatesDer, [await der('hsm-ca.pem')]);
  assert.deepEqual(upstream.rootsDer, [await der('root.pem')]);
  await assertSignsVerifiableIntermediate(upstream, dir);
});

test('the token can be chosen by slot ID instead of label', SOFTHSM, async () => {
  const fixture = await hsmWithCa('ec-p256');
  const slots = (await softhsmUtil(['--show-slots'])).split(/^Slot /m);
  const slotId = Number(/^(\d+)/.exec(slots.find((block) => /Label:\s+meshid\s*$/m.test(block)) ?? '')?.[1]);
  assert.ok(Number.isSafeInteger(slotId), 'softhsm2-util shows the slot ID of the meshid token');
  const upstream = await load(fixture, { tokenLabel: undefined, slot: slotId });
  await assertSignsVerifiableIntermediate(upstream, fixture.dir);
  await upstream.close?.();
  await assertFails(fixture, { tokenLabel: undefined, slot: slotId + 1 }, new RegExp(`no token in slot ${slotId + 1} of module .*libsofthsm2\\.so \\(tokens present: .*slot ${slotId}: "meshid"`));
});

describe('start-up errors name the item at fault and never the PIN', SOFTHSM, () => {
  test('wrong PIN', async () => {
    const fixture = await hsmWithCa('ec-p256');
    await writeFile(path.join(fixture.dir, 'wrong-pin'), 'wrong-pin-9Zx4\n');
    await assertFails(fixture, { pinFile: 'wrong-pin' }, /token "meshid" rejected the PIN in pinFile .*wrong-pin \(CKR_PIN_INCORRECT\)/);
  });

  test('missing or empty pinFile', async () => {
    const fixture = await hsmWithCa('ec-p256');
    await assertFails(fixture, { pinFile: 'nowhere' }, /cannot read pinFile .*nowhere: ENOENT/);
    await writeFile(path.join(fixture.dir, 'empty-pin'), '\n');
    await assertFails(fixture, { pinFile: 'empty-pin' }, /pinFile .*empty-pin is empty/);
  });

  test('missing key label', async () => {
    const fixture = await hsmWithCa('ec-p256');
    await assertFails(fixture, { keyLabel: 'no-such-key' }, /no private key labelled "no-such-key" in token "meshid" \(private keys present: "upstream-ca"\)/);
  });

  test('missing token', async () => {
    const fixture = await hsmWithCa('ec-p256');
    await assertFails(fixture, { tokenLabel: 'other-token' }, /no token labelled "other-token" in module .*libsofthsm2\.so \(tokens present: slot \d+: "meshid", slot \d+: uninitialized\)/);
  });

  test('module path wrong, or not a PKCS#11 module', async () => {
    const fixture = await hsmWithCa('ec-p256');
    await assertFails(fixture, { module: '/usr/lib/softhsm/no-such-module.so' }, /module \/usr\/lib\/softhsm\/no-such-module\.so cannot be loaded as a PKCS#11 module: cannot open shared object file/);
    await assertFails(fixture, { module: NOT_A_PKCS11_MODULE }, /module .*peer_credentials\.node cannot be loaded as a PKCS#11 module: .*C_GetFunctionList/);
  });

  test('a certificate that does not match the key: another key of the same type, or another type', async () => {
    const fixture = await hsmWithCa('ec-p256');
    const other = generateKeyInHsm('ec-p256', 'other-ec');
    await writeFile(path.join(fixture.dir, 'other-ec.pem'), await selfSignedHsmCa(other.publicKey, 'other-ec', 'other EC CA'));
    await assertFails(fixture, { certFile: 'other-ec.pem' }, /key "upstream-ca" in token "meshid" does not match the certificate in certFile .*other-ec\.pem: its signature does not verify/);
    const rsa = generateKeyInHsm('rsa-3072', 'other-rsa');
    await writeFile(path.join(fixture.dir, 'other-rsa.pem'), await selfSignedHsmCa(rsa.publicKey, 'other-rsa', 'other RSA CA'));
    await assertFails(fixture, { certFile: 'other-rsa.pem' }, /key "upstream-ca" in token "meshid" does not match the certificate in certFile .*other-rsa\.pem: the key is EC, the certificate's is RSA/);
  });

  test('a key the token does not allow to sign', async () => {
    const fixture = await hsmWithCa('ec-p256');
    generateKeyInHsm('ec-p256', 'no-sign', { canSign: false });
    // The probe signature fails before the certificate (another key's) is compared.
    await assertFails(fixture, { keyLabel: 'no-sign', certFile: 'upstream.pem' }, /signing with key "no-sign" in token "meshid" failed \(CKR_KEY_FUNCTION_NOT_PERMITTED\)/);
  });
});

describe('the HSM becoming unavailable after start', SOFTHSM, () => {
  test('a failed rotation is logged and retried with backoff; it succeeds once the token is back', async () => {
    const fixture = await hsmWithCa('ec-p256');
    const upstream = await load(fixture);
    const clock = new FakeClock(Date.now());
    const failures: string[] = [];
    const logLines: string[] = [];
    const waiters: (() => void)[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => {
      logLines.push(line);
      const entry = JSON.parse(line) as { msg?: string; err?: { message?: string } };
      if (entry.msg === 'node intermediate rotation failed') failures.push(entry.err?.message ?? '');
      for (const wake of waiters.splice(0)) wake();
    } });
    const ca = new NodeCa({ upstream, trustDomain: 'example.org', caTtlMs: 60 * MINUTE, leafKeyType: 'ec-p256', clock, logger, random: () => 0.5 });
    cleanups.push(async () => ca.stop());
    await ca.start();
    const first = ca.authority;
    const rotated = new Promise<SigningAuthority>((resolve) => ca.onRotate(resolve));
    const nextFailure = (count: number): Promise<void> => waitFor(() => failures.length >= count, waiters);

    // The token disappears (as a network HSM does when it is unreachable).
    const [token] = await readdir(fixture.hsm.tokenDir);
    assert.ok(token, 'SoftHSM keeps the token in a subdirectory');
    const tokenDirectory = path.join(fixture.hsm.tokenDir, token);
    const away = path.join(fixture.dir, 'token-away'); // outside tokendir, where SoftHSM looks for tokens
    await rename(tokenDirectory, away);
    await clock.advance(36 * MINUTE); // past half-life ± jitter of the 60-minute intermediate
    await nextFailure(1);
    assert.match(failures[0] ?? '', /^upstream\(pkcs11\): signing with key "upstream-ca" in token "meshid" failed \(CKR_\w+\)/);
    assert.equal(ca.authority, first, 'the current intermediate keeps signing');

    await clock.advance(MINUTE); // the first retry (backoff ≤ 1 s) reconnects, and finds no token
    await nextFailure(2);
    assert.match(failures[1] ?? '', /^upstream\(pkcs11\): (no token labelled "meshid"|module .* failed to initialize)/);
    assert.equal(ca.authority, first);

    await rename(away, tokenDirectory);
    await clock.advance(MINUTE); // the next retry (backoff ≤ 2 s) reconnects and signs
    const next = await rotated;
    assert.equal(next.generation, first.generation + 1);
    assert.equal(ca.authority, next);
    const nodeCaPem = derCertificatesToPem(next.chainDer[0] ?? Buffer.alloc(0));
    await writeFile(path.join(fixture.dir, 'rotated.pem'), nodeCaPem);
    await writeFile(path.join(fixture.dir, 'ca.pem'), fixture.caPem);
    // At the fake clock's time: the new intermediate's validity starts then.
    const verified = await openssl(['verify', '-attime', String(Math.floor(clock.now() / 1000)), '-CAfile', 'ca.pem', 'rotated.pem'], fixture.dir);
    assert.ok(verified.ok, verified.output);
    assert.ok(logLines.length >= 2 && logLines.every((line) => !line.includes(USER_PIN)), 'the PIN is never logged');
  });
});

describe('meshid run with a pkcs11 upstream', SOFTHSM, () => {
  const agents = new AgentProcesses();
  after(() => agents.stopAll());

  async function writeConfig(fixture: Fixture, name: string, pinFile: string): Promise<{ configFile: string; socketPath: string }> {
    const socketPath = path.join(fixture.dir, `${name}.sock`);
    const configFile = path.join(fixture.dir, `${name}.yaml`);
    await writeFile(
      configFile,
      `trustDomain: example.org
dataDir: ${name}-data
socketPath: ${socketPath}
upstream:
  type: pkcs11
  module: ${SOFTHSM_MODULE}
  tokenLabel: ${TOKEN_LABEL}
  keyLabel: ${KEY_LABEL}
  pinFile: ${pinFile}
  certFile: upstream.pem
`,
    );
    return { configFile, socketPath };
  }

  test('a wrong PIN: exit 2, the message names the pinFile and the HSM refusal, never the PIN', async () => {
    const fixture = await hsmWithCa('ec-p256');
    await writeFile(path.join(fixture.dir, 'wrong-pin'), 'wrong-pin-9Zx4\n');
    const { configFile, socketPath } = await writeConfig(fixture, 'wrong', 'wrong-pin');
    const result = await meshid(['run', '--config', configFile], { cwd: fixture.dir, env: { ...process.env, SOFTHSM2_CONF: fixture.hsm.confFile } });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /meshid: cannot start: upstream\(pkcs11\): token "meshid" rejected the PIN in pinFile .*wrong-pin \(CKR_PIN_INCORRECT\)/);
    assert.ok(!`${result.stdout}${result.stderr}`.includes('wrong-pin-9Zx4') && !`${result.stdout}${result.stderr}`.includes(USER_PIN), 'no PIN in the output');
    await assert.rejects(stat(socketPath), { code: 'ENOENT' }, 'nothing was served');
  });

  test('the right PIN: the agent starts and reports the pkcs11 upstream', async () => {
    const fixture = await hsmWithCa('ec-p256');
    const { configFile, socketPath } = await writeConfig(fixture, 'right', 'hsm-pin');
    const child = await agents.start(configFile, socketPath, fixture.dir); // inherits SOFTHSM2_CONF
    assert.equal(child.exitCode, null);
    assert.ok((await stat(socketPath)).isSocket());
  });
});

/** Resolves once `condition` holds, re-checking on each wake-up; a hang guard, not a timing assertion. */
function waitFor(condition: () => boolean, waiters: (() => void)[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const bound = setTimeout(() => reject(new Error('condition not reached within 20 s')), 20_000);
    const check = (): void => {
      if (condition()) {
        clearTimeout(bound);
        resolve();
      } else waiters.push(check);
    };
    check();
  });
}
