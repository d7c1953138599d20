import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import pino from 'pino';
import { ConfigError } from '../../src/agent/config/config-error';
import { loadEntriesFile, parseConfig } from '../../src/agent/config/load';
import { WatchedEntriesFile, type EntriesReload } from '../../src/entries/watched-entries';
import { meshid } from '../support/meshid-cli';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';

// issue 16 item 1: `allowedPeers` on entries, inline and in an entries file.

after(removeTempDirs);

function problemsOf(action: () => unknown): string[] {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

const base = { trustDomain: 'example.org' };

test('valid allowedPeers (an ID, a trust domain, a /* prefix) load as given; an entry without them has none', () => {
  const config = parseConfig(
    {
      ...base,
      entries: [
        { spiffeId: 'spiffe://example.org/web', selectors: ['unix:uid:1000'], allowedPeers: ['spiffe://example.org/api', 'spiffe://other.org', 'spiffe://example.org/ns/prod/*'] },
        { spiffeId: 'spiffe://example.org/open', selectors: ['unix:uid:1001'] },
      ],
    },
    { baseDir: '/' },
  );
  assert.deepEqual(config.entries[0]?.allowedPeers, ['spiffe://example.org/api', 'spiffe://other.org', 'spiffe://example.org/ns/prod/*']);
  assert.equal(config.entries[1]?.allowedPeers, undefined);
  assert.ok(Object.isFrozen(config.entries[0]?.allowedPeers));
});

test('every invalid item is listed, by its index, with the reason; an empty list is refused', () => {
  const problems = problemsOf(() =>
    parseConfig(
      {
        ...base,
        entries: [
          { spiffeId: 'spiffe://example.org/web', selectors: ['unix:uid:1000'], allowedPeers: ['api', 'spiffe://example.org/api', 'spiffe://example.org/ns/*/x', 'spiffe://Other.org'] },
          { spiffeId: 'spiffe://example.org/db', selectors: ['unix:uid:1001'], allowedPeers: [] },
          { spiffeId: 'spiffe://example.org/c', selectors: ['unix:uid:1002'], allowedPeers: 'spiffe://example.org/api' },
        ],
      },
      { baseDir: '/' },
    ),
  );
  const expected = [/^entries\[0\]\.allowedPeers\[0\]: "api" is not a SPIFFE ID.*scheme/, /^entries\[0\]\.allowedPeers\[2\]: .*final "\/\*" segment/, /^entries\[0\]\.allowedPeers\[3\]: .*lowercase/, /^entries\[1\]\.allowedPeers: .*lists no peer/, /^entries\[2\]\.allowedPeers: must be a list/];
  for (const pattern of expected) assert.ok(problems.some((problem) => pattern.test(problem)), `no problem matches ${pattern}:\n${problems.join('\n')}`);
  assert.equal(problems.length, expected.length, problems.join('\n'));
});

test('entries granting one ID must agree on allowedPeers (a caller gets one entry per ID)', () => {
  const problems = problemsOf(() =>
    parseConfig(
      {
        ...base,
        entries: [
          { spiffeId: 'spiffe://example.org/web', selectors: ['unix:uid:1000'], allowedPeers: ['spiffe://example.org/api'] },
          { spiffeId: 'spiffe://example.org/web', selectors: ['unix:gid:50'] },
        ],
      },
      { baseDir: '/' },
    ),
  );
  assert.deepEqual(problems, ['entries[1]: grants "spiffe://example.org/web" like entries[0] but with different allowedPeers; entries for one ID must agree on them']);
  // The same set in another order agrees.
  parseConfig(
    {
      ...base,
      entries: [
        { spiffeId: 'spiffe://example.org/web', selectors: ['unix:uid:1000'], allowedPeers: ['spiffe://example.org/a', 'spiffe://example.org/b'] },
        { spiffeId: 'spiffe://example.org/web', selectors: ['unix:gid:50'], allowedPeers: ['spiffe://example.org/b', 'spiffe://example.org/a'] },
      ],
    },
    { baseDir: '/' },
  );
});

test('an entries file reload with a bad allowedPeers item is refused with its problems and keeps the last good entries', async () => {
  const dir = await makeTempDir('meshid-allowed-peers-');
  const file = path.join(dir, 'entries.yaml');
  await writeFile(file, '- spiffeId: spiffe://example.org/web\n  selectors: [unix:uid:1000]\n  allowedPeers: [spiffe://example.org/api]\n');
  const reloads: EntriesReload[] = [];
  const watched = new WatchedEntriesFile({ file, inline: [], load: (name) => loadEntriesFile(name, 'example.org'), logger: pino({ level: 'silent' }), onReload: (reload) => reloads.push(reload) });
  assert.deepEqual(watched.current()[0]?.allowedPeers, ['spiffe://example.org/api']);

  await writeFile(file, '- spiffeId: spiffe://example.org/web\n  selectors: [unix:uid:1000]\n  allowedPeers: [spiffe://example.org/db, "db", "spiffe://example.org/*/x"]\n');
  watched.reload();
  assert.equal(reloads.length, 1);
  const [invalid] = reloads;
  assert.equal(invalid?.result, 'invalid');
  const problems = invalid?.result === 'invalid' ? invalid.problems : [];
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.match(problems[0] ?? '', /\[0\]\.allowedPeers\[1\]: "db" is not a SPIFFE ID/);
  assert.match(problems[1] ?? '', /\[0\]\.allowedPeers\[2\]: .*final "\/\*" segment/);
  assert.deepEqual(watched.current()[0]?.allowedPeers, ['spiffe://example.org/api'], 'the last good entries stay in force');

  await writeFile(file, '- spiffeId: spiffe://example.org/web\n  selectors: [unix:uid:1000]\n  allowedPeers: [spiffe://example.org/db]\n');
  watched.reload();
  assert.deepEqual(reloads[1], { result: 'applied', count: 1 });
  assert.deepEqual(watched.current()[0]?.allowedPeers, ['spiffe://example.org/db']);
  await watched.stop();
});

test('meshid run refuses a config with bad allowedPeers: exit 2, every problem on stderr, nothing started', async () => {
  const dir = await makeTempDir('meshid-allowed-peers-cli-');
  await writeFile(
    path.join(dir, 'meshid.yaml'),
    `trustDomain: example.org\nsocketPath: ${path.join(dir, 'agent.sock')}\ndataDir: ${path.join(dir, 'data')}\nentries:\n` +
      '  - spiffeId: spiffe://example.org/web\n    selectors: ["unix:uid:1000"]\n    allowedPeers: ["api", "spiffe://example.org/a*"]\n',
  );
  const result = await meshid(['run', '--config', 'meshid.yaml'], { cwd: dir });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /entries\[0\]\.allowedPeers\[0\]: "api" is not a SPIFFE ID/);
  assert.match(result.stderr, /entries\[0\]\.allowedPeers\[1\]: "spiffe:\/\/example\.org\/a\*" is not a SPIFFE ID.*final "\/\*" segment/);
});
