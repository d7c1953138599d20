import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { isMeshidError } from '../../src/common/errors';
import { allowedPeerProblem, allowedPeersOf, partlyRestricted, peerMatcher } from '../../src/entries/allowed-peers';
import { matchingEntries } from '../../src/entries/entries';
import type { RegistrationEntry } from '../../src/entries/entries';
import type { TrustBundle } from '../../src/rotation/x509-svid';
import { renderSecret } from '../../src/sds/render-secrets';
import { DeltaSecretStream } from '../../src/sds/delta-secret-stream';
import type { DeltaDiscoveryResponse, DiscoveryResponse, EnvoyNode } from '../../src/sds/messages';
import { resolveSecretName, warnIfPeersIgnored, warnIfRestrictionVoid, type SecretSource } from '../../src/sds/secret-names';
import { ignoresTypedSanMatchers } from '../../src/sds/validator-choice';
import { SecretStream } from '../../src/sds/secret-stream';
import { sameSource } from '../../src/sds/stream-rules';
import type { SvidSource } from '../../src/serving/svid-source';
import { decodeOfficialSecret, decodeSpiffeValidator, type OfficialSecret } from './support/official-envoy';

// issue 16 item 1: allowedPeers → match_typed_subject_alt_names. Secrets are decoded with Envoy's
// official protos (@grpc/grpc-js-xds), so a wrong field number in proto/ fails here.

const entry = (spiffeId: string, allowedPeers?: string[]): RegistrationEntry => ({ spiffeId, selectors: ['unix:uid:1000'], dnsNames: [], ...(allowedPeers ? { allowedPeers } : {}) });

test('allowedPeers items: an exact ID, a trust domain (prefix with "/"), a "/*" path prefix', () => {
  assert.deepEqual(peerMatcher('spiffe://example.org/web'), { exact: 'spiffe://example.org/web' });
  assert.deepEqual(peerMatcher('spiffe://other.org'), { prefix: 'spiffe://other.org/' });
  assert.deepEqual(peerMatcher('spiffe://example.org/ns/prod/*'), { prefix: 'spiffe://example.org/ns/prod/' });
  assert.deepEqual(peerMatcher('spiffe://example.org/*'), { prefix: 'spiffe://example.org/' }, 'the whole trust domain, spelt with /*');
});

test('invalid allowedPeers items are refused with the reason and the accepted forms', () => {
  const cases: [string, RegExp][] = [
    ['web', /scheme must be "spiffe:\/\/"/],
    ['https://example.org/web', /scheme/],
    ['spiffe://Example.org/web', /lowercase/],
    ['spiffe://example.org/web/', /must not end with "\/"/],
    ['spiffe://example.org/ns/*/web', /wildcard is allowed only as a final "\/\*" segment/],
    ['spiffe://example.org/web*', /wildcard is allowed only as a final/],
    ['spiffe://*', /must follow a trust domain or a path/],
    ['spiffe://example.org//*', /must not end with/],
    ['', /scheme/],
  ];
  for (const [item, reason] of cases) {
    const problem = allowedPeerProblem(item);
    assert.ok(problem, `${item} is refused`);
    assert.match(problem, reason, item);
    assert.ok(problem.startsWith(`${JSON.stringify(item)} is not a SPIFFE ID, a trust domain (spiffe://other.org) or a path prefix ending in "/*"`), problem);
    assert.throws(() => peerMatcher(item), (error) => isMeshidError(error, 'INVALID_SPIFFE_ID'));
  }
  assert.equal(allowedPeerProblem('spiffe://example.org/web'), undefined);
});

test('a caller with several entries gets the union, deduplicated and sorted; one unrestricted entry makes the caller unrestricted', () => {
  const a = entry('spiffe://example.org/a', ['spiffe://example.org/db', 'spiffe://other.org']);
  const b = entry('spiffe://example.org/b', ['spiffe://example.org/cache', 'spiffe://example.org/db', 'spiffe://other.org/*']);
  assert.deepEqual(allowedPeersOf([a, b]), [{ exact: 'spiffe://example.org/cache' }, { exact: 'spiffe://example.org/db' }, { prefix: 'spiffe://other.org/' }]);
  assert.deepEqual(allowedPeersOf([b, a]), allowedPeersOf([a, b]), 'entry order does not change the policy');
  const open = entry('spiffe://example.org/open');
  assert.equal(allowedPeersOf([a, open]), undefined);
  assert.equal(partlyRestricted([a, open]), true);
  assert.equal(partlyRestricted([a, b]), false);
  assert.equal(allowedPeersOf([]), undefined);
});

test('template entries carry allowedPeers into the rendered entry', () => {
  const rules = [{ spiffeIdTemplate: 'spiffe://{{trustDomain}}/uid/{{unix.uid}}', selectors: ['unix:uid:*'], dnsNames: [], allowedPeers: ['spiffe://example.org/db'] }];
  const [matched] = matchingEntries(rules, ['unix:uid:1000'], { trustDomain: 'example.org' });
  assert.deepEqual(matched?.allowedPeers, ['spiffe://example.org/db']);
});

test('every validation-context name carries the peers of a restricted caller; SVID names and unrestricted callers do not', () => {
  const restricted = [entry('spiffe://example.org/web', ['spiffe://example.org/api'])];
  for (const name of ['ROOTCA', 'ALL', 'spiffe://example.org']) {
    const source = resolveSecretName(name, restricted, 'example.org');
    assert.equal(source?.kind, 'bundle');
    assert.deepEqual(source.kind === 'bundle' ? source.peers : undefined, [{ exact: 'spiffe://example.org/api' }], name);
    assert.deepEqual(resolveSecretName(name, [entry('spiffe://example.org/web')], 'example.org'), { kind: 'bundle', scope: name === 'ROOTCA' ? 'roots' : name === 'ALL' ? 'all' : 'trust-domain' }, `${name}: unrestricted as before`);
  }
  assert.deepEqual(resolveSecretName('default', restricted, 'example.org'), { kind: 'svid', entry: restricted[0] });
  // A change of the peers is a change of the source: open streams re-render and push (stream-rules.ts).
  const before = resolveSecretName('ROOTCA', restricted, 'example.org');
  const after = resolveSecretName('ROOTCA', [entry('spiffe://example.org/web', ['spiffe://example.org/db'])], 'example.org');
  assert.equal(sameSource(before, after), false);
  assert.equal(sameSource(before, resolveSecretName('ROOTCA', [entry('spiffe://example.org/web', ['spiffe://example.org/api'])], 'example.org')), true);
});

const bundle: TrustBundle = { trustDomain: 'example.org', version: 7, rootsDer: [Buffer.from('not really a certificate')] };
const store: SvidSource = {
  get: () => Promise.reject(new Error('no SVID in this test')),
  bundle,
  federated: undefined,
  subscribe: () => () => undefined,
};
const peers = [{ exact: 'spiffe://example.org/api' }, { prefix: 'spiffe://other.org/' }];

function sanMatchers(secret: OfficialSecret): unknown {
  return (secret.validation_context as { match_typed_subject_alt_names?: unknown } | undefined)?.match_typed_subject_alt_names;
}

test('both validator forms carry match_typed_subject_alt_names on the URI SAN: exact for an ID, prefix for a trust domain or /*', async () => {
  const source: SecretSource = { kind: 'bundle', scope: 'trust-domain', peers };
  const expected = [
    { san_type: 3, matcher: { exact: 'spiffe://example.org/api' } },
    { san_type: 3, matcher: { prefix: 'spiffe://other.org/' } },
  ];
  const spiffe = decodeOfficialSecret((await renderSecret('spiffe://example.org', source, store, 'spiffe')).resource);
  assert.deepEqual(sanMatchers(spiffe), expected, 'SPIFFE validator form');
  assert.equal(decodeSpiffeValidator(spiffe).trust_domains?.[0]?.name, 'example.org', 'the validator config is unchanged');
  const trustedCa = decodeOfficialSecret((await renderSecret('spiffe://example.org', source, store, 'trusted-ca')).resource);
  assert.deepEqual(sanMatchers(trustedCa), expected, 'trusted_ca form');
  assert.ok(trustedCa.validation_context?.trusted_ca?.inline_bytes);
  const roots = decodeOfficialSecret((await renderSecret('ROOTCA', { kind: 'bundle', scope: 'roots', peers }, store, 'spiffe')).resource);
  assert.deepEqual(sanMatchers(roots), expected, 'ROOTCA (always trusted_ca)');
});

test('an unrestricted validation context has no matcher; the peers are part of the version', async () => {
  const open = await renderSecret('ALL', { kind: 'bundle', scope: 'all' }, store, 'spiffe');
  assert.equal(sanMatchers(decodeOfficialSecret(open.resource)), undefined);
  const restricted = await renderSecret('ALL', { kind: 'bundle', scope: 'all', peers }, store, 'spiffe');
  const other = await renderSecret('ALL', { kind: 'bundle', scope: 'all', peers: [{ exact: 'spiffe://example.org/db' }] }, store, 'spiffe');
  const again = await renderSecret('ALL', { kind: 'bundle', scope: 'all', peers: [...peers] }, store, 'spiffe');
  assert.equal(new Set([open.version, restricted.version, other.version]).size, 3, 'each policy is its own version');
  assert.equal(again.version, restricted.version, 'equal policies, equal versions (across streams and reconnects)');
  assert.notDeepEqual(sanMatchers(decodeOfficialSecret(other.resource)), sanMatchers(decodeOfficialSecret(restricted.resource)), 'the encoding cache tells policies apart');
});

/** The next message the handler writes (bounded, so a handler that writes nothing fails the test). */
async function nextMessage<T>(stream: PassThrough): Promise<T> {
  for (;;) {
    const message = stream.read() as T | null;
    if (message !== null) return message;
    await once(stream, 'readable', { signal: AbortSignal.timeout(5_000) });
  }
}
const matchersIn = (resource: { type_url: string; value: Buffer } | undefined): unknown => (resource ? sanMatchers(decodeOfficialSecret(resource)) : undefined);

test('open streams push a changed allowedPeers at once: SotW with a new version, Delta with a new resource version', async () => {
  const logger = pino({ level: 'silent' });
  const web = (peer: string): RegistrationEntry => entry('spiffe://example.org/web', [peer]);
  const sotwOut = new PassThrough({ objectMode: true });
  const sotw = new SecretStream({ sink: sotwOut, store, trustDomain: 'example.org', logger, onError: (error) => assert.fail(String(error)) }, [web('spiffe://example.org/a')]);
  sotw.handle({ type_url: '', resource_names: ['ROOTCA'], version_info: '', response_nonce: '', node: null, error_detail: null });
  const first = await nextMessage<DiscoveryResponse>(sotwOut);
  assert.deepEqual(matchersIn(first.resources[0]), [{ san_type: 3, matcher: { exact: 'spiffe://example.org/a' } }]);
  sotw.updateEntries([web('spiffe://example.org/b')]);
  const pushed = await nextMessage<DiscoveryResponse>(sotwOut);
  assert.notEqual(pushed.version_info, first.version_info);
  assert.deepEqual(matchersIn(pushed.resources[0]), [{ san_type: 3, matcher: { exact: 'spiffe://example.org/b' } }]);
  sotw.close();

  const deltaOut = new PassThrough({ objectMode: true });
  const delta = new DeltaSecretStream({ sink: deltaOut, store, trustDomain: 'example.org', logger, onError: (error) => assert.fail(String(error)) }, [web('spiffe://example.org/a')]);
  delta.handle({ type_url: '', resource_names_subscribe: ['spiffe://example.org'], resource_names_unsubscribe: [], initial_resource_versions: {}, response_nonce: '', node: null, error_detail: null });
  const initial = await nextMessage<DeltaDiscoveryResponse>(deltaOut);
  delta.updateEntries([entry('spiffe://example.org/web')]);
  const lifted = await nextMessage<DeltaDiscoveryResponse>(deltaOut);
  assert.equal(lifted.resources[0]?.name, 'spiffe://example.org');
  assert.notEqual(lifted.resources[0]?.version, initial.resources[0]?.version);
  assert.equal(matchersIn(lifted.resources[0]?.resource), undefined, 'no allowedPeers left: no matcher');
  delta.close();
});

test('a caller holding entries with and without allowedPeers is warned about once per change: its restriction is void', () => {
  const warnings: object[] = [];
  const logger = { warn: (details: object) => warnings.push(details) };
  assert.equal(warnIfRestrictionVoid([entry('spiffe://example.org/a', ['spiffe://example.org/x']), entry('spiffe://example.org/b')], logger), true);
  assert.deepEqual(warnings, [{ restricted: ['spiffe://example.org/a'], unrestricted: ['spiffe://example.org/b'] }]);
  assert.equal(warnIfRestrictionVoid([entry('spiffe://example.org/a', ['spiffe://example.org/x'])], logger), false);
  assert.equal(warnings.length, 1);
});

test('Envoys reporting a version below 1.20.2 ignore match_typed_subject_alt_names: detected (warned), unknown versions are not', () => {
  const node = (major: number, minor: number, patch: number): EnvoyNode => ({ user_agent_build_version: { version: { major_number: major, minor_number: minor, patch } } });
  for (const [major, minor, patch] of [[1, 18, 0], [1, 19, 9], [1, 20, 1], [0, 99, 9]] as const) assert.equal(ignoresTypedSanMatchers(node(major, minor, patch)), true, `${major}.${minor}.${patch}`);
  for (const [major, minor, patch] of [[1, 20, 2], [1, 21, 0], [1, 40, 0], [2, 0, 0]] as const) assert.equal(ignoresTypedSanMatchers(node(major, minor, patch)), false, `${major}.${minor}.${patch}`);
  assert.equal(ignoresTypedSanMatchers(undefined), false);
  assert.equal(ignoresTypedSanMatchers({ user_agent_name: 'envoy' }), false);

  const warnings: object[] = [];
  const logger = { warn: (details: object) => warnings.push(details) };
  warnIfPeersIgnored([entry('spiffe://example.org/a', ['spiffe://example.org/x'])], true, logger);
  warnIfPeersIgnored([entry('spiffe://example.org/a')], true, logger);
  warnIfPeersIgnored([entry('spiffe://example.org/a', ['spiffe://example.org/x'])], false, logger);
  assert.deepEqual(warnings, [{ holds: ['spiffe://example.org/a'] }]);
});
