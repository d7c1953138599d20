import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { openssl } from '../support/openssl';
import { pemBlocks, uriSan } from '../support/pem';
import { removeTempDirs } from '../support/temp-dir';

const CLIENT = path.join(__dirname, '..', 'support', 'workload-client-main.js');
const run = promisify(execFile);

interface ClientResult {
  code?: number;
  details?: string;
  svids?: { spiffeId: string; chainPem: string; keyPem: string; bundlePem: string; hint: string }[];
}

/** Runs a real workload process under `uid` and returns what it got from the agent. */
async function fetchAs(uid: number, socketPath: string, mode = ''): Promise<ClientResult> {
  const { stdout } = await run(process.execPath, [CLIENT, socketPath, mode], { uid, gid: uid });
  return JSON.parse(stdout) as ClientResult;
}

let harness: Harness;
before(async () => {
  harness = await startTestAgent({
    entries: [
      { spiffeId: 'spiffe://example.org/web', selectors: ['unix:uid:1000'], dnsNames: ['web.local'], hint: 'internal' },
      { spiffeId: 'spiffe://example.org/db', selectors: ['unix:uid:1001'] },
      { spiffeId: 'spiffe://example.org/db-admin', selectors: ['unix:uid:1001', 'unix:gid:1001'] },
    ],
  });
});
after(async () => {
  await harness.agent.stop();
  await removeTempDirs();
});

test('each uid gets its own SPIFFE ID, from the kernel, with the spec fields filled', async () => {
  const [web, db] = await Promise.all([fetchAs(1000, harness.socketPath), fetchAs(1001, harness.socketPath)]);
  assert.deepEqual(web.svids?.map((svid) => svid.spiffeId), ['spiffe://example.org/web']);
  assert.equal(web.svids?.[0]?.hint, 'internal');
  assert.deepEqual(db.svids?.map((svid) => svid.spiffeId), ['spiffe://example.org/db', 'spiffe://example.org/db-admin'], 'several entries → several SVIDs in entry order');
  const leafPem = pemBlocks(web.svids?.[0]?.chainPem ?? '')[0] ?? '';
  assert.equal(uriSan(leafPem), 'spiffe://example.org/web');
});

test('openssl verifies the served chain against the served bundle', async () => {
  const web = await fetchAs(1000, harness.socketPath);
  const svid = web.svids?.[0];
  assert.ok(svid);
  const [leaf, ...intermediates] = pemBlocks(svid.chainPem);
  assert.equal(intermediates.length, 1, 'leaf + node intermediate');
  const dir = harness.dir;
  await writeFile(path.join(dir, 'leaf.pem'), leaf ?? '');
  await writeFile(path.join(dir, 'intermediates.pem'), intermediates.join(''));
  await writeFile(path.join(dir, 'bundle.pem'), svid.bundlePem);
  const verify = await openssl(['verify', '-CAfile', 'bundle.pem', '-untrusted', 'intermediates.pem', 'leaf.pem'], dir);
  assert.ok(verify.ok, verify.output);
  assert.match(verify.output, /leaf.pem: OK/);
});

test('a uid with no entry gets PERMISSION_DENIED', async () => {
  const result = await fetchAs(1002, harness.socketPath);
  assert.equal(result.code, status.PERMISSION_DENIED);
  assert.match(result.details ?? '', /no identity issued/);
});

test('a call without the security header gets INVALID_ARGUMENT', async () => {
  const result = await fetchAs(1000, harness.socketPath, 'noheader');
  assert.equal(result.code, status.INVALID_ARGUMENT);
  assert.match(result.details ?? '', /workload\.spiffe\.io/);
});
