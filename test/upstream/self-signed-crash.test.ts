import assert from 'node:assert/strict';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { parseConfig } from '../../src/agent/config/load';
import { loadConfiguredUpstream } from '../../src/agent/configured-upstream';
import { isMeshidError } from '../../src/common/errors';
import { derToPem } from '../../src/identity/pem';
import { generateRoot } from '../../src/upstream/self-signed-upstream';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';

after(removeTempDirs);

const configFor = (dir: string) => parseConfig({ trustDomain: 'example.org', dataDir: 'data', socketPath: 'agent.sock' }, { baseDir: dir });

/** dataDir as a first start killed right after staging its root leaves it. */
async function interruptedFirstStart(): Promise<{ dir: string; dataDir: string; keyPem: string; certPem: string }> {
  const dir = await makeTempDir('meshid-first-start-');
  const dataDir = path.join(dir, 'data');
  await loadConfiguredUpstream(configFor(dir), new Date()); // creates dataDir
  const root = await generateRoot('example.org', new Date());
  const certPem = derToPem('CERTIFICATE', root.upstream.signingCertificateDer);
  for (const name of await readdir(dataDir)) await rename(path.join(dataDir, name), path.join(dir, name));
  await writeFile(path.join(dataDir, 'upstream-ca.first-start.pem'), root.keyPem + certPem, { mode: 0o600 });
  return { dir, dataDir, keyPem: root.keyPem, certPem };
}

test('an interrupted first start is finished from the staged root, whichever half was written', async () => {
  for (const written of [[], ['key'], ['key', 'cert']]) {
    const { dir, dataDir, keyPem, certPem } = await interruptedFirstStart();
    if (written.includes('key')) await writeFile(path.join(dataDir, 'upstream-ca.key'), keyPem, { mode: 0o600 });
    if (written.includes('cert')) await writeFile(path.join(dataDir, 'upstream-ca.pem'), certPem, { mode: 0o644 });
    const upstream = await loadConfiguredUpstream(configFor(dir), new Date());
    assert.equal(derToPem('CERTIFICATE', upstream.signingCertificateDer), certPem, `the staged root is the root (${written.join('+') || 'nothing'} written)`);
    assert.deepEqual((await readdir(dataDir)).sort(), ['upstream-ca.key', 'upstream-ca.leaf-ttl.json', 'upstream-ca.pem']);
  }
});

test('a staged root beside a different key or cert is an error; nothing is replaced', async () => {
  const { dir, dataDir } = await interruptedFirstStart();
  const other = await generateRoot('example.org', new Date());
  await writeFile(path.join(dataDir, 'upstream-ca.key'), other.keyPem, { mode: 0o600 });
  await assert.rejects(loadConfiguredUpstream(configFor(dir), new Date()), (error: unknown) => isMeshidError(error, 'UPSTREAM') && /upstream-ca\.key differs from the root .*upstream-ca\.first-start\.pem holds/.test(error.message));
  assert.equal(await readFile(path.join(dataDir, 'upstream-ca.key'), 'utf8'), other.keyPem);
  assert.ok((await readdir(dataDir)).includes('upstream-ca.first-start.pem'));
});

test('a retired root that is not a root of this trust domain is refused, not put in the bundle', async () => {
  const dir = await makeTempDir('meshid-retired-');
  await loadConfiguredUpstream(configFor(dir), new Date());
  const foreign = await generateRoot('evil.example', new Date());
  await writeFile(path.join(dir, 'data', 'upstream-ca.retired.pem'), derToPem('CERTIFICATE', foreign.upstream.signingCertificateDer), { mode: 0o644 });
  await assert.rejects(loadConfiguredUpstream(configFor(dir), new Date()), (error: unknown) => isMeshidError(error, 'UPSTREAM') && /upstream-ca\.retired\.pem in .* is not a root of trust domain example\.org; meshid did not write it/.test(error.message));
  const own = await generateRoot('example.org', new Date());
  await writeFile(path.join(dir, 'data', 'upstream-ca.retired.pem'), derToPem('CERTIFICATE', own.upstream.signingCertificateDer), { mode: 0o644 });
  const upstream = await loadConfiguredUpstream(configFor(dir), new Date());
  assert.equal(upstream.rootsDer.length, 2, 'a root of this trust domain is served as retired');
});
