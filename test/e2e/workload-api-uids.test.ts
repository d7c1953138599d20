import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { openssl } from '../support/openssl';
import { keyMatchesCertificate, pemBlocks, uriSan } from '../support/pem';
import { removeTempDirs } from '../support/temp-dir';
import { assertReadableBy, clientDependencies, fetchAs, NOT_ROOT } from '../support/workload-process';
import { needs } from '../support/tools';

// Real client processes under uids 1000/1001/1002: the agent can only tell them apart through
// the kernel's peer credentials on the accepted socket.
describe('Workload API, one process per uid', { skip: NOT_ROOT || needs('openssl') }, () => {
  let harness: Harness;
  before(async () => {
    for (const uid of [1000, 1001, 1002]) await assertReadableBy(uid, clientDependencies());
    harness = await startTestAgent({
      entries: [
        { spiffeId: 'spiffe://example.org/web', selectors: ['unix:uid:1000'], dnsNames: ['web.local'], hint: 'internal' },
        { spiffeId: 'spiffe://example.org/db', selectors: ['unix:uid:1001'] },
        { spiffeId: 'spiffe://example.org/db-admin', selectors: ['unix:uid:1001', 'unix:gid:1001'] },
      ],
    });
  });
  after(async () => {
    await harness?.agent.stop();
    await removeTempDirs();
  });

  test('the socket is mode 0777 in a directory the agent created', async () => {
    assert.equal((await stat(harness.socketPath)).mode & 0o777, 0o777);
    assert.ok((await stat(path.dirname(harness.socketPath))).isDirectory());
  });

  test('each uid gets its own SPIFFE ID, with the spec fields filled', async () => {
    const [web, db] = await Promise.all([fetchAs(1000, harness.socketPath), fetchAs(1001, harness.socketPath)]);
    assert.deepEqual(web.svids?.map((svid) => svid.spiffeId), ['spiffe://example.org/web'], JSON.stringify(web).slice(0, 300));
    assert.equal(web.svids?.[0]?.hint, 'internal');
    assert.deepEqual(db.svids?.map((svid) => svid.spiffeId), ['spiffe://example.org/db', 'spiffe://example.org/db-admin'], 'several entries → several SVIDs in entry order');
    for (const svid of [...(web.svids ?? []), ...(db.svids ?? [])]) {
      const leaf = pemBlocks(svid.chainPem)[0] ?? '';
      assert.equal(uriSan(leaf), svid.spiffeId, 'the chain starts with the leaf of that ID');
      assert.ok(keyMatchesCertificate(svid.keyPem, leaf), `${svid.spiffeId}: x509_svid_key (PKCS#8 DER) is the leaf's key`);
    }
    assert.notEqual(pemBlocks(web.svids?.[0]?.chainPem ?? '')[0], pemBlocks(db.svids?.[0]?.chainPem ?? '')[0]);
  });

  test('openssl verifies the served chain against the served bundle', async () => {
    const web = await fetchAs(1000, harness.socketPath);
    const svid = web.svids?.[0];
    assert.ok(svid, JSON.stringify(web));
    const [leaf, ...intermediates] = pemBlocks(svid.chainPem);
    assert.equal(intermediates.length, 1, 'leaf + node intermediate');
    const dir = harness.dir;
    await writeFile(path.join(dir, 'leaf.pem'), leaf ?? '');
    await writeFile(path.join(dir, 'intermediates.pem'), intermediates.join(''));
    await writeFile(path.join(dir, 'bundle.pem'), svid.bundlePem);
    const verify = await openssl(['verify', '-CAfile', 'bundle.pem', '-untrusted', 'intermediates.pem', 'leaf.pem'], dir);
    assert.ok(verify.ok, verify.output);
    assert.match(verify.output, /leaf\.pem: OK/);
    // Without the intermediate the leaf must not verify: the bundle holds roots only.
    const alone = await openssl(['verify', '-CAfile', 'bundle.pem', 'leaf.pem'], dir);
    assert.equal(alone.ok, false, alone.output);
  });

  test('FetchX509Bundles returns the trust bundle keyed by spiffe://example.org', async () => {
    const [bundles, svids] = await Promise.all([fetchAs(1000, harness.socketPath, { rpc: 'bundles' }), fetchAs(1000, harness.socketPath)]);
    assert.deepEqual(Object.keys(bundles.bundles ?? {}), ['spiffe://example.org'], JSON.stringify(bundles).slice(0, 300));
    assert.equal(bundles.bundles?.['spiffe://example.org'], svids.svids?.[0]?.bundlePem);
  });

  test('a uid with no entry gets PERMISSION_DENIED', async () => {
    const result = await fetchAs(1002, harness.socketPath);
    assert.equal(result.code, status.PERMISSION_DENIED, JSON.stringify(result));
    assert.equal(result.svids, undefined);
  });

  test('a call without the security header gets INVALID_ARGUMENT, for both RPCs', async () => {
    for (const rpc of ['svid', 'bundles'] as const) {
      const result = await fetchAs(1000, harness.socketPath, { rpc, header: false });
      assert.equal(result.code, status.INVALID_ARGUMENT, `${rpc}: ${JSON.stringify(result)}`);
      assert.match(result.details ?? '', /workload\.spiffe\.io/, 'the message names the missing header');
    }
  });
});
