import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfigFile, loadEntriesFile } from '../../../src/agent/config/load';
import { parseStrictJson } from '../../../src/common/strict-json';
import { makeTempDir } from '../../support/temp-dir';

// A JSON entries file (YAML's subset) takes JSON.parse, ~100x faster than the YAML parser on
// 5,000 entries (bench/restart-entries.ts); what it loads and every error stay the same.

function problemsOf(action: () => unknown): string[] {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

test('a JSON entries file loads exactly as the same entries in YAML', async () => {
  const dir = await makeTempDir('meshid-json-entries-');
  const entries = [
    { spiffeId: 'spiffe://example.org/web', selectors: ['unix:uid:1000', 'k8s:ns:web'], dnsNames: ['web.svc'], hint: 'h"\\u00e9' },
    { spiffeIdTemplate: 'spiffe://example.org/ns/{{k8s.ns}}', selectors: ['k8s:ns:*'] },
  ];
  const json = path.join(dir, 'entries.json');
  const yaml = path.join(dir, 'entries.yaml');
  await writeFile(json, JSON.stringify(entries, null, 2));
  await writeFile(yaml, '- spiffeId: spiffe://example.org/web\n  selectors: [unix:uid:1000, k8s:ns:web]\n  dnsNames: [web.svc]\n  hint: "h\\"\\\\u00e9"\n- spiffeIdTemplate: "spiffe://example.org/ns/{{k8s.ns}}"\n  selectors: ["k8s:ns:*"]\n');
  assert.deepEqual(loadEntriesFile(json, 'example.org'), loadEntriesFile(yaml, 'example.org'));
});

test('a JSON entries file with wrong entries lists every problem, as YAML does', async () => {
  const dir = await makeTempDir('meshid-json-entries-');
  const file = path.join(dir, 'entries.json');
  await writeFile(file, JSON.stringify([{ spiffeId: 'spiffe://example.org/a', selectors: ['unix:uid:1000'] }, { spiffeId: 'spiffe://other.org/x', selectors: ['unix:uid:abc'] }]));
  assert.deepEqual(problemsOf(() => loadEntriesFile(file, 'example.org')), [
    `${file}: [1].selectors[0]: "unix:uid:abc": uid must be a number`,
    `${file}: [1].spiffeId: "spiffe://other.org/x" is not in trust domain "example.org"`,
  ]);
});

test('a key repeated in JSON is still an error (the YAML parser reports it), not last-one-wins', async () => {
  const dir = await makeTempDir('meshid-json-entries-');
  const file = path.join(dir, 'entries.json');
  await writeFile(file, '[{"spiffeId": "spiffe://example.org/a", "selectors": ["unix:uid:1000"], "spiffeId": "spiffe://example.org/b"}]');
  const problems = problemsOf(() => loadEntriesFile(file, 'example.org'));
  assert.equal(problems.length, 1);
  assert.match(problems[0] ?? '', /entries\.json: YAML: Map keys must be unique/);
  const config = path.join(dir, 'meshid.json');
  await writeFile(config, '{"trustDomain": "example.org", "trustDomain": "other.org"}');
  assert.match(problemsOf(() => loadConfigFile(config, {})).join('\n'), /Map keys must be unique/);
});

test('parseStrictJson: JSON only, keys counted outside strings', () => {
  assert.deepEqual(parseStrictJson(' [{"a": "x\\": 1", "b": {"c": [1, {"d": null}]}}]'), { value: [{ a: 'x": 1', b: { c: [1, { d: null }] } }] });
  assert.equal(parseStrictJson('{"a": 1, "a": 2}'), undefined);
  assert.equal(parseStrictJson('[a, b]'), undefined, 'YAML flow style is left to the YAML parser');
  assert.equal(parseStrictJson('- a: 1'), undefined);
  assert.equal(parseStrictJson('"text"'), undefined);
});
