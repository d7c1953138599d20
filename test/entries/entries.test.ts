import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchingEntries, type RegistrationEntry } from '../../src/entries/entries';
import { SpiffeIdTemplate } from '../../src/entries/spiffe-id-template';

const entry = (spiffeId: string, selectors: string[]): RegistrationEntry => ({ spiffeId, selectors, dnsNames: [] });

test('an entry matches only when all its selectors are among the workload selectors', () => {
  const entries = [entry('spiffe://td/a', ['unix:uid:1000', 'unix:gid:1000']), entry('spiffe://td/b', ['unix:uid:1000']), entry('spiffe://td/c', ['unix:uid:2000'])];
  assert.deepEqual(
    matchingEntries(entries, ['unix:uid:1000', 'unix:gid:5']).map((e) => e.spiffeId),
    ['spiffe://td/b'],
  );
  assert.deepEqual(
    matchingEntries(entries, ['unix:uid:1000', 'unix:gid:1000']).map((e) => e.spiffeId),
    ['spiffe://td/a', 'spiffe://td/b'],
    'several matches keep entry order; the first is the default',
  );
});

test('duplicate SPIFFE IDs yield one SVID; an entry without selectors never matches', () => {
  const entries = [entry('spiffe://td/a', ['unix:uid:1']), entry('spiffe://td/a', ['unix:gid:1']), entry('spiffe://td/z', [])];
  assert.deepEqual(matchingEntries(entries, ['unix:uid:1', 'unix:gid:1']).map((e) => e.spiffeId), ['spiffe://td/a']);
});

test('a wildcard selector requires the type and key with any value, and never a longer key', () => {
  const rules = [{ spiffeIdTemplate: 'spiffe://{{trustDomain}}/ns/{{k8s.ns}}/sa/{{k8s.sa}}', selectors: ['k8s:ns:*', 'k8s:sa:*'], dnsNames: [] }];
  const options = { trustDomain: 'cluster.local' };
  assert.deepEqual(matchingEntries(rules, ['k8s:ns:prod', 'k8s:sa:billing', 'unix:uid:1'], options).map((e) => e.spiffeId), ['spiffe://cluster.local/ns/prod/sa/billing']);
  assert.deepEqual(matchingEntries(rules, ['k8s:ns:prod'], options), [], 'k8s:sa missing');
  assert.deepEqual(matchingEntries(rules, ['k8s:nsx:prod', 'k8s:sa:billing'], options), [], 'k8s:ns:* does not match k8s:nsx:…');
});

test('a template that renders an invalid SPIFFE ID is refused and reported, never issued', () => {
  const problems: string[] = [];
  const options = { trustDomain: 'example.org', onRenderProblem: (_template: string, problem: string) => problems.push(problem) };
  const rules = [{ spiffeIdTemplate: 'spiffe://{{trustDomain}}/label/{{k8s.pod-label:app}}', selectors: ['k8s:pod-label:app:*'], dnsNames: [] }];
  assert.deepEqual(matchingEntries(rules, ['k8s:pod-label:app:web'], options).map((e) => e.spiffeId), ['spiffe://example.org/label/web'], 'label keys after a colon');
  assert.deepEqual(matchingEntries(rules, ['k8s:pod-label:app:a/../../admin'], options), [], '"/" cannot smuggle path segments');
  assert.deepEqual(matchingEntries(rules, ['k8s:pod-label:app:has space'], options), []);
  assert.equal(problems.length, 2);
  assert.match(problems[0] ?? '', /contains "\/"/);
  assert.match(problems[1] ?? '', /may contain only letters/);
});

test('template syntax errors are reported when the template is parsed', () => {
  assert.throws(() => SpiffeIdTemplate.parse('spiffe://{{trustDomain}}/{{ns}}'), /neither \{\{trustDomain\}\} nor/);
  assert.throws(() => SpiffeIdTemplate.parse('spiffe://{{trustDomain}}/{{k8s.ns}'), /unbalanced or empty/);
  assert.throws(() => SpiffeIdTemplate.parse('https://{{trustDomain}}/x'), /must start with spiffe:\/\//);
  assert.deepEqual(SpiffeIdTemplate.parse('spiffe://{{ trustDomain }}/{{k8s.ns}}/{{docker.label:team}}').selectorPrefixes, ['k8s:ns:', 'docker:label:team:']);
});
