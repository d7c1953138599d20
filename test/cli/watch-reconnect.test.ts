/**
 * `api watch` across an agent restart, and `healthcheck` from a caller no entry matches: the two
 * loose ends of issue 14. Real `meshid run` processes; no sleeps: each step waits for the line
 * the CLI prints.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { AgentProcesses, meshid, MESHID_MAIN } from '../support/meshid-cli';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { freePort } from './support/contract';

const agents = new AgentProcesses();
after(async () => {
  await agents.stopAll();
  await removeTempDirs();
});

async function agentConfig(selectorUid: number): Promise<{ dir: string; socketPath: string }> {
  const dir = await makeTempDir('meshid-watch-');
  const socketPath = path.join(dir, 'agent.sock');
  await writeFile(path.join(dir, 'meshid.yaml'), `trustDomain: example.org\ndataDir: ${dir}/data\nsocketPath: ${socketPath}\nadmin:\n  listen: 127.0.0.1:${await freePort()}\nentries:\n  - spiffeId: spiffe://example.org/watcher\n    selectors: ['unix:uid:${selectorUid}']\n`);
  return { dir, socketPath };
}

/** Resolves with everything `stream` printed once `pattern` matches it; rejects if the child exits first. */
function waitForOutput(child: ChildProcess, stream: 'stdout' | 'stderr', pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        child[stream]?.off('data', onData);
        resolve(seen);
      }
    };
    child[stream]?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`api watch exited ${code} before printing ${pattern}; ${stream} so far: ${seen}`)));
  });
}

test('api watch reopens its stream after the agent restarts and prints the next update', async () => {
  const { dir, socketPath } = await agentConfig(process.getuid?.() ?? 0);
  const first = await agents.start('meshid.yaml', socketPath, dir);
  const watch = spawn(process.execPath, [MESHID_MAIN, 'api', 'watch', '--socket', socketPath], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => watch.once('exit', resolve));
  await waitForOutput(watch, 'stdout', /update 1: 1 X\.509-SVID\n.*\n/);

  const reconnecting = waitForOutput(watch, 'stderr', /ended: UNAVAILABLE: .*; reconnecting in \d/);
  first.kill('SIGTERM'); // graceful stop ends open streams with UNAVAILABLE
  await reconnecting;
  const second = waitForOutput(watch, 'stdout', /update 2: 1 X\.509-SVID\n {2}spiffe:\/\/example\.org\/watcher {2}serial [0-9A-F]+/);
  await agents.start('meshid.yaml', socketPath, dir);
  await second;

  watch.kill('SIGINT');
  assert.equal(await exited, 0, 'an interrupted watch exits 0');
});

test('api watch that cannot make its first connection exits 1 at once instead of retrying', async () => {
  const { dir, socketPath } = await agentConfig(process.getuid?.() ?? 0);
  const result = await meshid(['api', 'watch', '--socket', socketPath], { cwd: dir });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^meshid: watch on .* ended: UNAVAILABLE: .*\n$/);
  assert.doesNotMatch(result.stderr, /reconnecting/);
});

test('healthcheck counts PERMISSION_DENIED as an answer: the agent is up, this caller is simply not registered', async () => {
  const { dir, socketPath } = await agentConfig(4242); // an entry for another uid only
  await agents.start('meshid.yaml', socketPath, dir);
  const result = await meshid(['healthcheck', '--socket', socketPath, '--timeout', '5s'], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, new RegExp(`^healthy: agent at ${socketPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} answered \\(this process is not registered, so it got no bundles: .+\\)\\n$`));
  assert.equal(result.stderr, '');
});
