import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pkcs10CertificateRequest } from '@peculiar/x509';
import { generateKey } from '../../src/identity/key-type';
import { keyObjectSigner } from '../../src/identity/signer';
import { certificateRequest } from '../../src/spire/certificate-request';
import { workloadRules } from '../../src/spire/server-entries';
import type { EntryMessage } from '../../src/spire/spire-api';
import { StaticEntrySource } from '../../src/entries/entries';
import { MergedEntrySource } from '../../src/entries/merged-entries';

const entry = (overrides: Partial<EntryMessage>): EntryMessage => ({
  id: 'e1',
  spiffe_id: { trust_domain: 'example.org', path: '/web' },
  parent_id: null,
  selectors: [{ type: 'unix', value: 'uid:1000' }],
  x509_svid_ttl: 0,
  federates_with: [],
  downstream: false,
  dns_names: [],
  revision_number: '0',
  hint: '',
  admin: false,
  expires_at: '0',
  store_svid: false,
  jwt_svid_ttl: 0,
  created_at: '0',
  ...overrides,
});

test('server entries become rules with SPIRE selector spelling; downstream entries are the node, not a workload', () => {
  const rules = workloadRules([
    entry({ dns_names: ['web.example.org'], hint: 'external', federates_with: ['other.org', 'spiffe://third.org'] }),
    entry({ id: 'node', spiffe_id: { trust_domain: 'example.org', path: '/meshid/node' }, downstream: true, selectors: [{ type: 'meshid', value: 'node' }] }),
    entry({ id: 'k8s', spiffe_id: { trust_domain: 'example.org', path: '/api' }, selectors: [{ type: 'k8s', value: 'ns:prod' }, { type: 'k8s', value: 'sa:api' }] }),
  ]);
  assert.deepEqual(rules, [
    { spiffeId: 'spiffe://example.org/web', selectors: ['unix:uid:1000'], dnsNames: ['web.example.org'], hint: 'external', federatesWith: ['spiffe://other.org', 'spiffe://third.org'] },
    { spiffeId: 'spiffe://example.org/api', selectors: ['k8s:ns:prod', 'k8s:sa:api'], dnsNames: [] },
  ]);
});

test('merged entries: local first (they decide the default SVID), then the server; a change in either is a change', () => {
  const local = new StaticEntrySource([{ spiffeId: 'spiffe://example.org/local', selectors: ['unix:uid:0'], dnsNames: [] }]);
  const server = new StaticEntrySource([]);
  const merged = new MergedEntrySource([local, server]);
  let changes = 0;
  merged.subscribe(() => changes++);
  server.replace([{ spiffeId: 'spiffe://example.org/remote', selectors: ['unix:uid:0'], dnsNames: [] }]);
  assert.deepEqual(merged.current().map((rule) => rule.spiffeId), ['spiffe://example.org/local', 'spiffe://example.org/remote']);
  local.replace([]);
  assert.deepEqual(merged.current().map((rule) => rule.spiffeId), ['spiffe://example.org/remote']);
  assert.equal(changes, 2);
});

test('the CSR sent to the server is a valid PKCS#10 request for the key, self-signed, empty subject', async () => {
  const key = await generateKey('ec-p256');
  const signer = keyObjectSigner(key.privateKey);
  const csr = new Pkcs10CertificateRequest(await certificateRequest(signer));
  assert.equal(await csr.verify(), true);
  assert.equal(csr.subject, '');
  assert.ok(Buffer.from(csr.publicKey.rawData).equals(key.publicKeySpkiDer));
});
