import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { needs } from '../support/tools';
import { configProblems } from './support/config-problems';
import { parseEmbeddedYaml, REPO, repoFile } from './support/repo-files';
import { parseUnitFile, unitValue, unitValues } from './support/unit-file';

const SYSTEMD_DIR = path.join(REPO, 'deploy', 'systemd');
const UNITS = ['meshid.service', 'meshid-nginx-reload.path', 'meshid-nginx-reload.service'];
const unit = parseUnitFile(repoFile('deploy/systemd/meshid.service'));
const config = parseEmbeddedYaml(repoFile('deploy/systemd/meshid.yaml'), 'deploy/systemd/meshid.yaml') as Record<string, unknown>;
const packageJson = JSON.parse(repoFile('package.json')) as { bin: Record<string, string> };
const service = (key: string): string => unitValue(unit, 'Service', key);
const nginxFiles = (config.files as { certFile: string; keyFile: string; bundleFile: string }[] | undefined) ?? [];

after(removeTempDirs);

describe('deploy/systemd/meshid.service', () => {
  test('starts the package bin on /etc/meshid/meshid.yaml, restarting on failure but not on a bad config', () => {
    assert.ok(['simple', 'exec', 'notify'].includes(service('Type')), service('Type'));
    const [node, script, ...args] = service('ExecStart').split(/\s+/);
    assert.match(node ?? '', /^\/.*\/node$/, 'an absolute node binary');
    assert.ok(script?.endsWith(`/${packageJson.bin.meshid}`), `${script} is not the package bin ${packageJson.bin.meshid}`);
    assert.deepEqual(args, ['run', '--config', '/etc/meshid/meshid.yaml']);
    assert.equal(service('Restart'), 'on-failure');
    assert.equal(service('RestartPreventExitStatus'), '2', 'exit 2 (bad config) would restart forever');
    assert.equal(unitValue(unit, 'Install', 'WantedBy'), 'multi-user.target');
  });

  test("systemd's directories are the ones meshid.yaml uses: socket, state, config", () => {
    assert.equal(service('RuntimeDirectory'), 'meshid');
    assert.equal(path.dirname(config.socketPath as string), `/run/${service('RuntimeDirectory')}`);
    assert.equal(service('RuntimeDirectoryMode'), '0755', 'workloads of every user must reach the socket');
    assert.equal(service('StateDirectory'), 'meshid');
    assert.equal(config.dataDir, `/var/lib/${service('StateDirectory')}`);
    assert.equal(service('StateDirectoryMode'), '0700', 'the self-signed CA key lives there');
    assert.equal(service('ConfigurationDirectory'), 'meshid');
    assert.ok(service('ExecStart').includes(` /etc/${service('ConfigurationDirectory')}/`));
  });

  test('runs as an ordinary user with no capabilities and no way to gain any', () => {
    assert.notEqual(service('User'), 'root');
    assert.deepEqual(unitValues(unit, 'Service', 'CapabilityBoundingSet'), [], 'CapabilityBoundingSet= (empty)');
    assert.deepEqual(unitValues(unit, 'Service', 'AmbientCapabilities'), []);
    assert.equal(service('NoNewPrivileges'), 'yes');
    const sysusers = repoFile('deploy/systemd/meshid.sysusers').split('\n').filter((line) => /^u\s/.test(line));
    assert.deepEqual(sysusers.map((line) => line.split(/\s+/)[1]), [service('User')], 'meshid.sysusers creates the unit user');
  });

  test('has the sandboxing keys', () => {
    const expected: Record<string, string> = {
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectControlGroups: 'yes',
      RestrictNamespaces: 'yes',
      RestrictSUIDSGID: 'yes',
      LockPersonality: 'yes',
      RestrictAddressFamilies: 'AF_UNIX AF_INET AF_INET6',
      SystemCallFilter: '@system-service',
      SystemCallArchitectures: 'native',
    };
    for (const [key, value] of Object.entries(expected)) assert.equal(service(key), value, key);
  });

  test('leaves off the sandboxing that would break a Node agent that attests other users', () => {
    assert.notEqual(unitValues(unit, 'Service', 'MemoryDenyWriteExecute')?.at(-1), 'yes', "V8's JIT");
    assert.notEqual(unitValues(unit, 'Service', 'PrivateUsers')?.at(-1), 'yes', 'SO_PEERCRED uids');
    assert.ok(!['invisible', 'noaccess', 'ptraceable'].includes(unitValues(unit, 'Service', 'ProtectProc')?.at(-1) ?? ''), '/proc of other users');
    assert.notEqual(unitValues(unit, 'Service', 'PrivateNetwork')?.at(-1), 'yes', 'the admin port');
  });

  test('the files meshid writes for nginx are in a path the sandbox leaves writable', () => {
    assert.ok(nginxFiles.length > 0, 'meshid.yaml writes no files');
    const writable = (unitValues(unit, 'Service', 'ReadWritePaths') ?? []).flatMap((value) => value.split(/\s+/)).map((entry) => entry.replace(/^-/, ''));
    for (const file of nginxFiles.flatMap((entry) => [entry.certFile, entry.keyFile, entry.bundleFile])) {
      assert.ok(writable.some((dir) => file.startsWith(`${dir}/`)), `${file} is read-only under ProtectSystem=strict`);
    }
  });

  test('the reload path unit watches the certificate meshid writes for nginx', () => {
    const pathUnit = parseUnitFile(repoFile('deploy/systemd/meshid-nginx-reload.path'));
    assert.equal(unitValue(pathUnit, 'Path', 'PathChanged'), nginxFiles[0]?.certFile);
    const reload = parseUnitFile(repoFile('deploy/systemd/meshid-nginx-reload.service'));
    assert.equal(unitValue(pathUnit, 'Path', 'Unit'), 'meshid-nginx-reload.service');
    assert.match(unitValue(reload, 'Service', 'ExecStart'), /systemctl try-reload-or-restart nginx\.service$/);
  });

  test('systemd-analyze verify accepts the units without a warning', { skip: needs('systemd-analyze') }, async () => {
    // A copy, with ExecStart's node replaced by the one running this test: verify checks that
    // the binary exists, and node's path is the one thing that differs between hosts.
    const dir = await makeTempDir('meshid-units-');
    for (const name of UNITS) await copyFile(path.join(SYSTEMD_DIR, name), path.join(dir, name));
    const copy = path.join(dir, 'meshid.service');
    await writeFile(copy, (await readFile(copy, 'utf8')).replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`));
    const result = spawnSync('systemd-analyze', ['verify', ...UNITS.map((name) => path.join(dir, name))], { encoding: 'utf8' });
    const about = `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.includes(dir));
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
    assert.deepEqual(about, [], 'systemd-analyze warned about the units');
  });
});

describe('deploy/systemd/meshid.yaml', () => {
  test('passes parseConfig as a whole', () => {
    assert.deepEqual(configProblems(config), []);
  });

  test('keeps the admin port on loopback', () => {
    assert.match((config.admin as { listen?: string } | undefined)?.listen ?? '', /^127\.0\.0\.1:\d+$/);
  });
});
