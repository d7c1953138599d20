import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { openssl } from '../support/openssl';
import { spiffeHandshake, type TlsIdentity } from '../support/spiffe-tls';
import { removeTempDirs } from '../support/temp-dir';
import { assertReadableBy, clientDependencies, firstSvidAs, NOT_ROOT, type WorkloadSvid } from '../support/workload-process';
import { needs } from '../support/tools';

const WEB = 'spiffe://example.org/web';
const DB = 'spiffe://example.org/db';

/** A self-signed certificate and key from another CA, carrying the given SPIFFE ID. */
async function foreignIdentity(dir: string, name: string, spiffeId: string, bundlePem: string): Promise<TlsIdentity> {
  const made = await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '1', '-subj', `/CN=${name}`, '-addext', `subjectAltName=URI:${spiffeId}`], dir);
  assert.ok(made.ok, made.output);
  return { chainPem: await readFile(path.join(dir, `${name}.pem`), 'utf8'), keyPem: await readFile(path.join(dir, `${name}.key`), 'utf8'), bundlePem };
}

describe('mutual TLS between two workloads with the SVIDs they were served', { skip: NOT_ROOT || needs('openssl') }, () => {
  let harness: Harness;
  let web: WorkloadSvid;
  let db: WorkloadSvid;
  before(async () => {
    for (const uid of [1000, 1001]) await assertReadableBy(uid, clientDependencies());
    harness = await startTestAgent({
      entries: [
        { spiffeId: WEB, selectors: ['unix:uid:1000'] },
        { spiffeId: DB, selectors: ['unix:uid:1001'] },
      ],
    });
    [web, db] = await Promise.all([firstSvidAs(1000, harness.socketPath), firstSvidAs(1001, harness.socketPath)]);
  });
  after(async () => {
    await harness?.agent.stop();
    await removeTempDirs();
  });

  test('web (client) and db (server) complete the handshake, each seeing the other ID', async () => {
    const seen = await spiffeHandshake(db, web, { server: DB, client: WEB });
    assert.ok(seen.ok, JSON.stringify(seen));
    assert.equal(seen.clientSawServer, DB);
    assert.equal(seen.serverSawClient, WEB);
  });

  test('the roles swap: db as client, web as server', async () => {
    const seen = await spiffeHandshake(web, db, { server: WEB, client: DB });
    assert.ok(seen.ok, JSON.stringify(seen));
    assert.equal(seen.clientSawServer, WEB);
    assert.equal(seen.serverSawClient, DB);
  });

  test('the client refuses a valid server whose SPIFFE ID is not the expected one', async () => {
    const seen = await spiffeHandshake(db, web, { server: 'spiffe://example.org/payments', client: WEB });
    assert.equal(seen.ok, false);
    assert.match(seen.clientError ?? '', /unexpected server SPIFFE ID spiffe:\/\/example\.org\/db/);
  });

  test('a client certificate from another CA is refused by the server, even with the right URI SAN', async () => {
    const intruder = await foreignIdentity(harness.dir, 'intruder-client', WEB, db.bundlePem);
    const seen = await spiffeHandshake(db, intruder, { server: DB, client: WEB });
    assert.equal(seen.ok, false, JSON.stringify(seen));
    assert.equal(seen.serverSawClient, undefined, 'the server never accepted the connection');
    assert.match(seen.serverError ?? '', /UNABLE_TO_GET_ISSUER_CERT|UNABLE_TO_VERIFY|SELF_SIGNED|unknown ca/i, JSON.stringify(seen));
  });

  test('a server certificate from another CA is refused by the client', async () => {
    const impostor = await foreignIdentity(harness.dir, 'impostor-server', DB, web.bundlePem);
    const seen = await spiffeHandshake(impostor, web, { server: DB, client: WEB });
    assert.equal(seen.ok, false, JSON.stringify(seen));
    assert.match(seen.clientError ?? '', /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/, JSON.stringify(seen));
  });
});
