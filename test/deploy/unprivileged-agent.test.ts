import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PROTO_DIR } from '../../src/common/proto-files';
import { MESHID_MAIN } from '../support/meshid-cli';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { assertReadableBy, clientDependencies, fetchAs, NOT_ROOT } from '../support/workload-process';
import { REPO } from './support/repo-files';

// deploy/systemd/meshid.service runs the agent as an ordinary user with an empty capability
// bounding set and no_new_privs, on the claim that attestation needs no privilege. This runs
// the real agent exactly so (setpriv: uid 1002, every capability set empty, no_new_privs) and
// has processes of two other users fetch their SVIDs from it.
const AGENT_UID = 1002;
const WEB = 'spiffe://example.org/web';
const DB = 'spiffe://example.org/db';
const setpriv = spawnSync('setpriv', ['--version']).status === 0;

/** Resolves once the agent logs its socket path (its start-up line); rejects if it exits first. */
function untilServing(child: ChildProcess, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const bound = setTimeout(() => reject(new Error(`the agent did not start within 20 s:\n${output}`)), 20_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.split('\n').some((line) => line.startsWith('{') && line.includes(socketPath))) {
        clearTimeout(bound);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(bound);
      reject(new Error(`the agent exited (${code}) before serving:\n${output}`));
    });
  });
}

/** One "Key:\tvalue" line of /proc/<pid>/status. */
function statusField(status: string, key: string): string {
  return new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? `<no ${key}>`;
}

describe('the agent as meshid.service runs it: an ordinary user with no capabilities', { skip: NOT_ROOT || (setpriv ? false : 'setpriv (util-linux) is not installed') }, () => {
  let dir: string;
  let socketPath: string;
  let stateDir: string;
  let agent: ChildProcess | undefined;

  before(async () => {
    dir = await makeTempDir('meshid-unprivileged-');
    // What RuntimeDirectory=meshid (0755) and StateDirectory=meshid (0700) create for User=.
    const runtimeDir = path.join(dir, 'run');
    stateDir = path.join(dir, 'state');
    for (const [created, mode] of [[runtimeDir, 0o755], [stateDir, 0o700]] as const) {
      await mkdir(created);
      await chown(created, AGENT_UID, AGENT_UID);
      await chmod(created, mode);
    }
    socketPath = path.join(runtimeDir, 'agent.sock');
    const configFile = path.join(dir, 'meshid.yaml');
    await writeFile(configFile, `trustDomain: example.org\ndataDir: ${stateDir}\nsocketPath: ${socketPath}\nentries:\n  - { spiffeId: ${WEB}, selectors: ["unix:uid:1000"] }\n  - { spiffeId: ${DB}, selectors: ["unix:uid:1001"] }\n`);
    await chmod(configFile, 0o644);

    await assertReadableBy(AGENT_UID, [MESHID_MAIN, path.join(REPO, 'build', 'Release', 'peer_credentials.node'), path.join(PROTO_DIR, 'workload.proto'), configFile, require.resolve('@grpc/grpc-js')]);
    for (const uid of [1000, 1001]) await assertReadableBy(uid, clientDependencies());

    agent = spawn('setpriv', ['--reuid', String(AGENT_UID), '--regid', String(AGENT_UID), '--clear-groups', '--no-new-privs', '--bounding-set', '-all', '--inh-caps', '-all', '--', process.execPath, MESHID_MAIN, 'run', '--config', configFile], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    await untilServing(agent, socketPath);
  });
  after(async () => {
    if (agent && agent.exitCode === null && agent.signalCode === null) {
      const gone = new Promise((resolve) => agent?.once('exit', resolve));
      agent.kill('SIGTERM');
      await gone;
    }
    await removeTempDirs();
  });

  test('the agent process is uid 1002 with every capability set empty and no_new_privs', async () => {
    const status = await readFile(`/proc/${agent?.pid}/status`, 'utf8');
    assert.match(statusField(status, 'Name'), /^(node|MainThread)/);
    assert.equal(statusField(status, 'Uid'), `${AGENT_UID}\t${AGENT_UID}\t${AGENT_UID}\t${AGENT_UID}`);
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.equal(statusField(status, set), '0000000000000000', set);
    assert.equal(statusField(status, 'NoNewPrivs'), '1');
  });

  test("it attests other users' processes and serves each its own SVID", async () => {
    const [web, db] = await Promise.all([fetchAs(1000, socketPath), fetchAs(1001, socketPath)]);
    assert.deepEqual(web.svids?.map((svid) => svid.spiffeId), [WEB], JSON.stringify(web));
    assert.deepEqual(db.svids?.map((svid) => svid.spiffeId), [DB], JSON.stringify(db));
  });

  test('it keeps its CA key in the state directory, its own and mode 0600', async () => {
    const key = await stat(path.join(stateDir, 'upstream-ca.key'));
    assert.equal(key.uid, AGENT_UID);
    assert.equal(key.mode & 0o777, 0o600);
  });
});
