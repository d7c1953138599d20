/**
 * `npm test`'s runner, after build and lint: every compiled test file under Node's test runner,
 * then ONE summary line saying which tests were skipped because a system tool or real peer was
 * missing, and the command that installs them (support/tools.ts declares the tools). Node runs
 * each test file in a process of its own, so the skips are collected in a file named for this
 * run and passed to them in MESHID_TEST_SKIPS_FILE. With CI=true a missing tool fails its test
 * instead (support/tools.ts), so nothing is skipped there.
 *
 *   node dist/test/run-tests.js                          every dist/test/**\/*.test.js
 *   node dist/test/run-tests.js dist/test/a.test.js ...  just those files
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SKIPS_FILE_ENV, skipSummary, type SkipRecord } from './support/tools';

/** The repository root: this file runs as dist/test/run-tests.js. */
const root = path.resolve(__dirname, '..', '..');

/** Every *.test.js under `dir`, sorted, relative to the repository root. */
function testFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && entry.name.endsWith('.test.js')) found.push(path.relative(root, full));
    }
  };
  walk(dir);
  return found.sort();
}

const files = process.argv.length > 2 ? process.argv.slice(2) : testFiles(path.join(root, 'dist', 'test'));
const skipsFile = path.join(os.tmpdir(), `meshid-test-skips-${randomUUID()}.jsonl`);
const run = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, [SKIPS_FILE_ENV]: skipsFile },
});

const skips = existsSync(skipsFile)
  ? readFileSync(skipsFile, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as SkipRecord)
  : [];
rmSync(skipsFile, { force: true });
console.log(`\n${skipSummary(skips, process.env.CI === 'true')}`);
if (run.error) console.error(run.error);
process.exit(run.status ?? 1);
