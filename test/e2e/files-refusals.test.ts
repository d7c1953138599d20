import assert from 'node:assert/strict';
import { chmod, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { isMeshidError } from '../../src/common/errors';
import { startTestAgent } from '../support/agent-harness';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';

after(removeTempDirs);

const refusedAtStart = async (files: unknown[], pattern: RegExp): Promise<void> => {
  await assert.rejects(startTestAgent({ files }), (error: unknown) => {
    assert.ok(isMeshidError(error, 'INVALID_CONFIG'), String(error));
    assert.match(error.message, pattern);
    return true;
  });
};

test('the agent refuses to start (INVALID_CONFIG, exit 2) with a target directory others can write to', async () => {
  const dir = path.join(await makeTempDir('meshid-refuse-'), 'certs');
  await mkdir(dir);
  await chmod(dir, 0o777);
  await refusedAtStart([{ spiffeId: 'spiffe://example.org/nginx', certFile: path.join(dir, 'chain.pem'), keyFile: path.join(dir, 'key.pem') }], /certs is not safe to write keys into: it is writable by group and others \(mode 0777\); chmod go-w it/);
  assert.deepEqual(await readdir(dir), [], 'nothing written');
});

test('the agent refuses to start with a key and a chain in different directories', async () => {
  const dir = await makeTempDir('meshid-refuse-');
  await refusedAtStart(
    [{ spiffeId: 'spiffe://example.org/nginx', certFile: path.join(dir, 'a', 'chain.pem'), keyFile: path.join(dir, 'b', 'key.pem') }],
    /files\[0\]\.keyFile: ".*\/b\/key\.pem" is not in the directory of certFile/,
  );
});
