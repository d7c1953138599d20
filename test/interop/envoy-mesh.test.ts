import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { removeTempDirs } from '../support/temp-dir';
import { get } from './support/request-loop';
import { CLIENT_ID, EnvoyMesh, INTRUDER_ID, SERVER_ID } from './support/envoy-mesh';

describe('real Envoy sidecars on meshid identities (SDS over the agent socket)', () => {
  let mesh: EnvoyMesh;

  before(async () => {
    mesh = await EnvoyMesh.start({ svidTtl: '20s', rotationPropagationDelay: '2s' });
  });
  after(async () => {
    await mesh?.stop();
    await removeTempDirs();
  });

  it('carries a request client Envoy → mTLS → server Envoy → backend, which sees the client SPIFFE ID in XFCC (GRPC/DELTA_GRPC both ways)', async () => {
    for (const pair of mesh.pairs) {
      const outcome = await get(pair.clientPort, `/${pair.label}/first`);
      assert.equal(outcome.status, 200, `${pair.label}: ${JSON.stringify(outcome)}\n${mesh.logs()}`);
      assert.equal(outcome.body, `hello ${CLIENT_ID}`);
      assert.ok(mesh.backend?.seen.some((seen) => seen.path === `/${pair.label}/first` && seen.clientId === CLIENT_ID));
      assert.ok((await pair.client.leafSerials(CLIENT_ID)).size > 0);
      assert.ok((await pair.server.leafSerials(SERVER_ID)).size > 0);
    }
    void INTRUDER_ID;
  });
});
