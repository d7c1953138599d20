import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { AgentProcess, diedAt, freePort, killAgentProcesses, writeAgentConfig } from '../support/fault-agent';
import { verifyWithJwks } from '../support/jwks-verify';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { callUnary, securityHeader, StreamReader, workloadClient, type JwtBundlesResponse } from '../support/workload-client';

after(async () => {
  await killAgentProcesses();
  await removeTempDirs();
});

async function jwks(socketPath: string): Promise<Buffer> {
  const client = workloadClient(socketPath);
  const reader = new StreamReader<JwtBundlesResponse>(client.FetchJWTBundles({}, securityHeader()));
  try {
    return (await reader.next(10_000)).bundles['spiffe://example.org'] ?? Buffer.alloc(0);
  } finally {
    reader.call.cancel();
    client.close();
  }
}

test('a JWT-SVID minted before a kill -9 (and a second one at the save of the restored keys) validates after the restart (ValidateJWTSVID and the served JWT bundle); the key file is 0600', async () => {
  const dir = await makeTempDir('meshid-jwt-restart-');
  const { configFile, socketPath, dataDir } = await writeAgentConfig(dir, { adminPort: await freePort() });
  const first = AgentProcess.start(configFile, socketPath);
  await first.serving;
  const client = workloadClient(socketPath);
  const minted = await callUnary(client.FetchJWTSVID, client, { audience: ['vault'] }, securityHeader());
  client.close();
  const token = minted.svids[0]?.svid ?? '';
  assert.ok(token);
  assert.equal((await stat(path.join(dataDir, 'jwt-keys.json'))).mode & 0o777, 0o600);
  await first.stop('SIGKILL');

  // Killed again while the restarted agent saves the keys it restored: the next start still has them.
  const interrupted = await AgentProcess.start(configFile, socketPath, { faultPoint: 'jwt-keys:written' }).exited;
  assert.ok(diedAt(interrupted, 'jwt-keys:written'), interrupted.output);

  const second = AgentProcess.start(configFile, socketPath);
  await second.serving;
  const restarted = workloadClient(socketPath);
  try {
    const validated = await callUnary(restarted.ValidateJWTSVID, restarted, { audience: 'vault', svid: token }, securityHeader());
    assert.equal(validated.spiffe_id, 'spiffe://example.org/crash');
    const { payload } = await verifyWithJwks(token, await jwks(socketPath), 'vault', new Date());
    assert.equal(payload.sub, 'spiffe://example.org/crash');
  } finally {
    restarted.close();
    await second.stop();
  }
});
