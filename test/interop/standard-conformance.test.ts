import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { jwksKids, verifyWithJwks } from '../support/jwks-verify';
import { derCertificatesToPem, keyMatchesCertificate, pemBlocks, uriSan } from '../support/pem';
import { removeTempDirs } from '../support/temp-dir';
import { firstMessage, standardClient, unary, workloadHeader, type StandardClient } from './support/standard-client';

const TD = 'spiffe://example.org';
const ME = 'spiffe://example.org/conformance';

/** DER certificates concatenated (the standard's `bytes` bundle/chain encoding) → X509Certificate[]. */
const certificates = (der: Buffer): X509Certificate[] => pemBlocks(derCertificatesToPem(der)).map((pem) => new X509Certificate(pem));

// issue 13 acceptance: meshid's real responses decoded with the STANDARD definition
// (go-spiffe v2.9.0's workload.proto, see support/standard-client.ts), not meshid's proto/ nor
// the tests' own copy.
describe('Workload API conformance: real agent, standard workloadapi.proto client', () => {
  let harness: Harness;
  let client: StandardClient;

  before(async () => {
    harness = await startTestAgent({ entries: [{ spiffeId: ME, selectors: [`unix:uid:${process.getuid?.() ?? 0}`], hint: 'internal' }] });
    client = standardClient(harness.socketPath);
  });
  after(async () => {
    client?.close();
    await harness?.agent.stop();
    await removeTempDirs();
  });

  test('FetchX509SVID: spiffe_id, DER chain leaf first, PKCS#8 key of the leaf, DER bundle, hint', async () => {
    const response = await firstMessage(client.FetchX509SVID({}, workloadHeader()));
    assert.equal(response.svids.length, 1);
    const svid = response.svids[0];
    assert.ok(svid);
    assert.equal(svid.spiffe_id, ME);
    assert.equal(svid.hint, 'internal');
    const [leaf, intermediate, ...rest] = certificates(svid.x509_svid);
    assert.ok(leaf && intermediate, 'leaf + node intermediate');
    assert.equal(rest.length, 0);
    assert.equal(uriSan(leaf.toString()), ME, 'the leaf comes first');
    assert.ok(leaf.verify(intermediate.publicKey), 'the leaf is signed by the next certificate');
    assert.ok(keyMatchesCertificate(svid.x509_svid_key, leaf.toString()), 'x509_svid_key is the leaf key, PKCS#8 DER');
    const roots = certificates(svid.bundle);
    assert.ok(roots.length >= 1 && roots.some((root) => intermediate.verify(root.publicKey)), 'the bundle holds the root over the chain');
    assert.deepEqual(response.crl, []);
    assert.deepEqual(response.federated_bundles, {});
  });

  test('FetchX509Bundles: bundles (field 2) keyed by the trust domain ID, DER certificates; crl (field 1) empty', async () => {
    const [bundles, svids] = await Promise.all([firstMessage(client.FetchX509Bundles({}, workloadHeader())), firstMessage(client.FetchX509SVID({}, workloadHeader()))]);
    assert.deepEqual(Object.keys(bundles.bundles), [TD], 'a standard client sees the bundle (it saw none with bundles = 1)');
    const der = bundles.bundles[TD];
    assert.ok(der);
    const roots = certificates(der);
    assert.ok(roots.length >= 1);
    for (const root of roots) assert.ok(root.ca && root.verify(root.publicKey), 'each bundle entry is a self-signed CA certificate');
    assert.ok(der.equals(svids.svids[0]?.bundle ?? Buffer.alloc(0)), 'the same bundle as FetchX509SVID carries');
    assert.deepEqual(bundles.crl, []);
  });

  test('FetchJWTSVID, FetchJWTBundles and ValidateJWTSVID: token, JWKS and claims decode and agree', async () => {
    const fetched = await unary(client, client.FetchJWTSVID, { audience: ['vault'] });
    assert.deepEqual(fetched.svids.map((svid) => [svid.spiffe_id, svid.hint]), [[ME, 'internal']]);
    const token = fetched.svids[0]?.svid ?? '';
    const jwks = await firstMessage(client.FetchJWTBundles({}, workloadHeader()));
    assert.deepEqual(Object.keys(jwks.bundles), [TD]);
    const document = jwks.bundles[TD] ?? Buffer.alloc(0);
    const { payload, header } = await verifyWithJwks(token, document, 'vault', new Date());
    assert.equal(payload.sub, ME);
    assert.ok(jwksKids(document).includes(header.kid ?? ''));

    const validated = await unary(client, client.ValidateJWTSVID, { audience: 'vault', svid: token });
    assert.equal(validated.spiffe_id, ME);
    const fields = validated.claims?.fields ?? {};
    assert.deepEqual(fields.sub, { stringValue: ME });
    assert.deepEqual(fields.aud, { listValue: { values: [{ stringValue: 'vault' }] } });
    assert.deepEqual(fields.exp, { numberValue: payload.exp });
  });

  test('FetchWITSVID (a standard RPC meshid does not serve) is UNIMPLEMENTED, as the standard requires', async () => {
    const call = client.FetchWITSVID({}, workloadHeader());
    const code = await new Promise<number | 'a message'>((resolve) => {
      call.once('error', (error: ServiceError) => resolve(error.code));
      call.once('data', () => resolve('a message'));
    });
    assert.equal(code, status.UNIMPLEMENTED);
  });
});
