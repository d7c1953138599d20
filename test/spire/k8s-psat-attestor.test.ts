import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { k8sPsatAttestor } from '../../src/spire/k8s-psat-attestor';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';

after(removeTempDirs);

// A projected service-account token's shape (header.payload.signature); its content is the server's business.
const TOKEN = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJhdWQiOlsic3BpcmUtc2VydmVyIl0sInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDpzcGlyZTpzcGlyZS1hZ2VudCJ9.c2ln';

test('k8s_psat sends the wire format spire-server decodes: {"cluster","token"} JSON, type k8s_psat, re-read each time', async () => {
  const dir = await makeTempDir();
  const tokenFile = path.join(dir, 'spire-agent');
  await writeFile(tokenFile, `${TOKEN}\n`);
  const attestor = k8sPsatAttestor('prod', tokenFile);
  assert.equal(attestor.type, 'k8s_psat');
  assert.equal(attestor.respond, undefined); // no challenge round (spire pkg/agent/plugin/nodeattestor/k8spsat)
  // Byte for byte what Go's json.Marshal(k8s.PSATAttestationData{Cluster, Token}) produces.
  assert.equal((await attestor.attestationPayload()).toString('utf8'), `{"cluster":"prod","token":"${TOKEN}"}`);
  await writeFile(tokenFile, 'rotated.by.kubelet');
  assert.deepEqual(JSON.parse((await attestor.attestationPayload()).toString('utf8')), { cluster: 'prod', token: 'rotated.by.kubelet' });
});

test('a missing or empty token file is a clear error naming it', async () => {
  const dir = await makeTempDir();
  await assert.rejects(k8sPsatAttestor('prod', path.join(dir, 'absent')).attestationPayload(), /upstream\(spire\): cannot read the k8s_psat token .*absent/);
  await writeFile(path.join(dir, 'empty'), '\n');
  await assert.rejects(k8sPsatAttestor('prod', path.join(dir, 'empty')).attestationPayload(), /k8s_psat token file .*empty is empty/);
});
