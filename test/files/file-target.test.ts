import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import pino from 'pino';
import { parseConfig } from '../../src/agent/config/load';
import { FileTarget } from '../../src/files/file-target';
import { NodeCa } from '../../src/rotation/node-ca';
import { SvidStore } from '../../src/rotation/svid-store';
import { loadConfiguredUpstream } from '../../src/agent/configured-upstream';
import { FakeClock } from '../support/fake-clock';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';

after(removeTempDirs);
const MINUTE = 60_000;
const logger = pino({ level: 'silent' });

async function setup(clock: FakeClock) {
  const dir = await makeTempDir('meshid-files-');
  const config = parseConfig(
    {
      trustDomain: 'example.org',
      dataDir: path.join(dir, 'data'),
      socketPath: path.join(dir, 'a.sock'),
      svid: { ttl: '1h' },
      files: [{ spiffeId: 'spiffe://example.org/app', certFile: 'out/cert.pem', keyFile: 'out/key.pem', bundleFile: 'out/bundle.pem', keyMode: '0640', owner: '1001:1002', afterWrite: `touch ${dir}/after-write-ran` }],
    },
    { baseDir: dir },
  );
  const ca = new NodeCa({ upstream: await loadConfiguredUpstream(config, new Date(clock.now())), trustDomain: 'example.org', caTtlMs: config.ca.ttlMs, leafKeyType: 'ec-p256', clock, logger, random: () => 0.5 });
  await ca.start();
  const store = new SvidStore({ ca, svidTtlMs: config.svid.ttlMs, clock, logger, random: () => 0.5 });
  const target = config.files[0];
  assert.ok(target);
  return { dir, store, ca, target };
}

const serialOf = async (file: string): Promise<string> => new X509Certificate(await readFile(file)).serialNumber;

test('a target gets chain, key and bundle with the configured mode and owner, then afterWrite runs', async () => {
  const clock = new FakeClock(Date.now());
  const { dir, store, ca, target } = await setup(clock);
  const results: string[] = [];
  const fileTarget = new FileTarget({ target, store, clock, logger, onWrite: (result) => results.push(result) });
  await fileTarget.start();
  try {
    const key = await stat(target.keyFile);
    assert.equal(key.mode & 0o777, 0o640);
    assert.deepEqual([key.uid, key.gid], [1001, 1002]);
    assert.equal((await stat(target.certFile)).mode & 0o777, 0o644);
    const chain = await readFile(target.certFile, 'utf8');
    assert.equal(chain.match(/BEGIN CERTIFICATE/g)?.length, 2);
    assert.match(await readFile(target.keyFile, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    assert.ok(new X509Certificate(chain).checkPrivateKey((await import('node:crypto')).createPrivateKey(await readFile(target.keyFile))));
    await fileTarget.settled(); // afterWrite runs after the write, not within it
    await stat(path.join(dir, 'after-write-ran'));
    assert.deepEqual(results, ['success']);
    assert.deepEqual((await readdir(path.dirname(target.certFile))).filter((name) => name.endsWith('.tmp')), [], 'no temporary files left');
  } finally {
    fileTarget.stop();
    store.stop();
    ca.stop();
  }
});

test('a failed write keeps the previous files, then is retried with backoff until it lands', async () => {
  const clock = new FakeClock(Date.now());
  const { store, ca, target } = await setup(clock);
  let failNext = false;
  let advanced: () => void = () => undefined;
  const advanceDone = new Promise<void>((resolve) => (advanced = resolve));
  const results: string[] = [];
  // The extra-file seam stands in for a disk that fills up while the set is being staged. It
  // fails once the clock has stopped, so no backoff retry fires within the same advance.
  const fileTarget = new FileTarget({
    target,
    store,
    clock,
    logger,
    random: () => 1,
    onWrite: (result) => results.push(result),
    extraFiles: [
      async () => {
        if (failNext) await advanceDone;
        if (failNext) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        return undefined;
      },
    ],
  });
  await fileTarget.start();
  try {
    const firstSerial = await serialOf(target.certFile);
    const firstKey = await readFile(target.keyFile);
    failNext = true;
    const rotated = new Promise<void>((resolve) => store.subscribe(() => resolve()));
    await clock.advance(31 * MINUTE);
    advanced();
    await rotated;
    await fileTarget.settled();
    assert.deepEqual(results, ['success', 'failure']);
    assert.equal(await serialOf(target.certFile), firstSerial, 'certificate untouched');
    assert.deepEqual(await readFile(target.keyFile), firstKey, 'key untouched: it still matches the certificate');
    assert.deepEqual((await readdir(path.dirname(target.certFile))).filter((name) => name.endsWith('.tmp')), [], 'staged files discarded');
    assert.equal((await readdir(path.dirname(target.certFile))).filter((name) => name.startsWith('..2')).length, 1, 'only the set in force');

    failNext = false;
    await clock.advance(1_000); // the first retry (backoff 1 s with random = 1)
    await fileTarget.settled();
    assert.deepEqual(results, ['success', 'failure', 'success']);
    assert.notEqual(await serialOf(target.certFile), firstSerial, 'the rotated certificate landed');
    assert.equal((await store.get({ spiffeId: target.spiffeId, selectors: [], dnsNames: [] })).serialHex.toUpperCase(), (await serialOf(target.certFile)).toUpperCase());
  } finally {
    fileTarget.stop();
    store.stop();
    ca.stop();
  }
});

test('a bundle file rewritten by hand is put back on the next change, not left diverged', async () => {
  const clock = new FakeClock(Date.now());
  const { store, ca, target } = await setup(clock);
  const fileTarget = new FileTarget({ target, store, clock, logger });
  await fileTarget.start();
  try {
    const bundle = await readFile(target.bundleFile ?? '', 'utf8');
    await writeFile(target.bundleFile ?? '', 'garbage');
    const rotated = new Promise<void>((resolve) => store.subscribe(() => resolve()));
    await clock.advance(31 * MINUTE);
    await rotated;
    await fileTarget.settled();
    assert.equal(await readFile(target.bundleFile ?? '', 'utf8'), bundle);
  } finally {
    fileTarget.stop();
    store.stop();
    ca.stop();
  }
});
