import assert from 'node:assert/strict';
import { chmod, chown, lchown, mkdir, readdir, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { checkStatePermissions } from '../../src/agent/state-permissions';
import { isMeshidError } from '../../src/common/errors';
import { startTestAgent } from '../support/agent-harness';
import { AgentProcess, freePort, killAgentProcesses, writeAgentConfig } from '../support/fault-agent';
import { meshid } from '../support/meshid-cli';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';

after(async () => {
  await killAgentProcesses();
  await removeTempDirs();
});

const uid = process.getuid?.() ?? 0;
const OTHER_UID = 65534;
const asRoot = { skip: uid !== 0 ? 'needs root to chown files to another uid' : false };
const mode = async (file: string): Promise<number> => (await stat(file)).mode & 0o7777;

/** A dataDir as a stopped agent leaves it: root, key, records. */
async function agentDataDir(): Promise<string> {
  const dir = await makeTempDir('meshid-strict-');
  const { configFile, socketPath, dataDir } = await writeAgentConfig(dir, { adminPort: await freePort() });
  const agent = AgentProcess.start(configFile, socketPath);
  await agent.serving;
  await agent.stop();
  return dataDir;
}

async function assertRefused(dataDir: string, pattern: RegExp): Promise<void> {
  await assert.rejects(checkStatePermissions(dataDir, { dataDirMode: 0o700 }), (error: unknown) => {
    assert.ok(isMeshidError(error, 'INVALID_CONFIG'), String(error));
    assert.match(error.message, pattern);
    return true;
  });
}

describe('strict modes for dataDir (like ssh StrictModes)', () => {
  test('the defaults pass: a 0700 dataDir, and a 0711 one with the 0777 socket inside (the embedded defaults), each across a restart', async () => {
    for (const layout of [{}, { dataDir: '.meshid', socketPath: '.meshid/agent.sock' }]) {
      const first = await startTestAgent(layout);
      const dataDir = path.join(first.dir, 'dataDir' in layout ? '.meshid' : 'data');
      assert.equal(await mode(dataDir), 'dataDir' in layout ? 0o711 : 0o700);
      assert.equal(await mode(path.join(dataDir, 'upstream-ca.key')), 0o600);
      assert.equal(await mode(path.join(dataDir, 'jwt-keys.json')), 0o600);
      await checkStatePermissions(dataDir, { dataDirMode: 0o711 });
      await first.agent.stop();
      const second = await startTestAgent({ ...layout, dataDir, socketPath: path.join(dataDir, 'again.sock') });
      await second.agent.stop();
    }
  });

  test('a world-writable dataDir (1777) that holds files is refused, naming the path and the chmod', async () => {
    const dataDir = await agentDataDir();
    await chmod(dataDir, 0o1777);
    await assertRefused(dataDir, new RegExp(`dataDir ${dataDir} is writable by group or others \\(mode 1777\\) and not empty.*run: chmod 0700 ${dataDir}`));
    assert.equal(await mode(dataDir), 0o1777, 'left for the operator to check: a restart is refused again');
  });

  test('an empty dataDir open to others (a Kubernetes emptyDir is 0777) is narrowed instead', async () => {
    const dataDir = path.join(await makeTempDir('meshid-strict-'), 'data');
    await mkdir(dataDir);
    await chmod(dataDir, 0o777);
    await checkStatePermissions(dataDir, { dataDirMode: 0o700 });
    assert.equal(await mode(dataDir), 0o700);
  });

  test('a group-writable file, or a group-writable directory inside, is refused with the chmod to run', async () => {
    const dataDir = await agentDataDir();
    const cert = path.join(dataDir, 'upstream-ca.pem');
    await chmod(cert, 0o664);
    await assertRefused(dataDir, new RegExp(`${cert} is writable by group or others \\(mode 0664\\); run: chmod go-w ${cert}`));
    await chmod(cert, 0o644);
    const sub = path.join(dataDir, 'sub');
    await mkdir(sub);
    await chmod(sub, 0o775);
    await assertRefused(dataDir, new RegExp(`${sub} is writable by group or others`));
  });

  test('a key readable by group or others is refused with the chmod to run', async () => {
    const dataDir = await agentDataDir();
    for (const name of ['upstream-ca.key', 'jwt-keys.json']) {
      const key = path.join(dataDir, name);
      await chmod(key, 0o640);
      await assertRefused(dataDir, new RegExp(`${key} holds a private key and is readable by group or others \\(mode 0640\\); run: chmod 600 ${key}`));
      await chmod(key, 0o600);
    }
    await checkStatePermissions(dataDir, { dataDirMode: 0o700 });
  });

  test('a root the agent did not write is never loaded: a retired root, a root key or the root owned by another uid, or a symlink', asRoot, async () => {
    const dataDir = await agentDataDir();
    const planted = path.join(dataDir, 'upstream-ca.retired.pem');
    await writeFile(planted, 'a CA of a local user\n', { mode: 0o644 });
    await chown(planted, OTHER_UID, OTHER_UID);
    await assertRefused(dataDir, new RegExp(`${planted} is owned by uid ${OTHER_UID}, not by the agent's uid ${uid}: the agent did not write it and will not load it`));
    await unlink(planted);

    for (const name of ['upstream-ca.key', 'upstream-ca.pem']) {
      const file = path.join(dataDir, name);
      await chown(file, OTHER_UID, OTHER_UID);
      await assertRefused(dataDir, new RegExp(`${file} is owned by uid ${OTHER_UID}`));
      await chown(file, uid, uid);
    }
    const link = path.join(dataDir, 'upstream-ca.next.pem');
    await symlink('/etc/ssl/certs/ca-certificates.crt', link);
    await lchown(link, uid, uid);
    await assertRefused(dataDir, new RegExp(`${link} is a symlink; the agent never writes one`));
  });

  test('a dataDir owned by another uid, or any other entry owned by neither the agent nor root, is refused with the chown to run', asRoot, async () => {
    const dataDir = await agentDataDir();
    const stray = path.join(dataDir, 'notes.txt');
    await writeFile(stray, 'x', { mode: 0o644 });
    await chown(stray, OTHER_UID, OTHER_UID);
    await assertRefused(dataDir, new RegExp(`${stray} is owned by uid ${OTHER_UID}, not by the agent's uid ${uid} or root; run: chown ${uid} ${stray}`));
    await chown(stray, uid, uid);
    await chown(dataDir, OTHER_UID, OTHER_UID);
    await assertRefused(dataDir, new RegExp(`dataDir ${dataDir} is owned by uid ${OTHER_UID}, not by the agent's uid ${uid}; run: chown ${uid} ${dataDir}`));
  });

  test('temp files a kill left behind are removed at start', async () => {
    const dataDir = await agentDataDir();
    await writeFile(path.join(dataDir, '.upstream-ca.key.0123456789ab.tmp'), 'half a key', { mode: 0o600 });
    await checkStatePermissions(dataDir, { dataDirMode: 0o700 });
    assert.ok(!(await readdir(dataDir)).some((name) => name.endsWith('.tmp')));
  });

  test('meshid run exits 2 with the message when dataDir is world-writable', async () => {
    const dir = await makeTempDir('meshid-strict-');
    const { configFile, socketPath, dataDir } = await writeAgentConfig(dir, { adminPort: await freePort() });
    const agent = AgentProcess.start(configFile, socketPath);
    await agent.serving;
    await agent.stop();
    await chmod(dataDir, 0o1777);
    const result = await meshid(['run', '--config', configFile], { cwd: dir });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /^meshid: cannot start: state permissions \(dataDir\): dataDir .* is writable by group or others \(mode 1777\).*chmod 0700/m);
  });
});
