import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isMeshidError } from '../../../src/common/errors';
import { DockerAttestor } from '../../../src/attestation/attestors/docker-attestor';
import { startFakeDocker, type FakeDocker } from '../../support/fake-docker';
import { makeTempDir, removeTempDirs } from '../../support/temp-dir';
import { subjectWithPid } from '../../support/attestation-subject';

const CGROUP_FIXTURES = path.join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'cgroup');
const DOCKER_CONTAINER = 'e2c6b4b5d2f0b9e0ad0d1f3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0f9e';
const IMAGE_ID = 'sha256:5d0da3dc976460b72c77d94c8a1ad043720b0416bfc16c52c45d4847e53fadb6';

const PROCESSES: Record<number, string> = {
  100: 'v1-docker.txt', // /docker/<id>
  101: 'v2-docker-systemd.txt', // /system.slice/docker-<id>.scope
  200: 'v2-systemd-burstable-containerd.txt', // a CRI container the engine does not know
  300: 'v2-host-init.txt',
};

describe('docker attestor against the Engine API on a unix socket', () => {
  let dir: string;
  let procRoot: string;
  let docker: FakeDocker;

  before(async () => {
    dir = await makeTempDir('meshid-docker-');
    procRoot = path.join(dir, 'proc');
    for (const [pid, fixture] of Object.entries(PROCESSES)) {
      await mkdir(path.join(procRoot, pid), { recursive: true });
      await copyFile(path.join(CGROUP_FIXTURES, fixture), path.join(procRoot, pid, 'cgroup'));
    }
    docker = await startFakeDocker(dir, [
      {
        id: DOCKER_CONTAINER,
        name: 'web',
        image: 'nginx:1.25',
        imageId: IMAGE_ID,
        labels: { 'com.example.team': 'payments', 'com.docker.compose.service': 'web' },
        env: ['PATH=/usr/bin', 'APP_ENV=production', 'DB_DSN=host=db;user=app', 'DB_PASSWORD=hunter2', 'EMPTY='],
      },
    ]);
  });
  after(async () => {
    await docker?.close();
    await removeTempDirs();
  });

  const attestor = (envAllowlist?: string[]): DockerAttestor => new DockerAttestor({ procRoot, socketPath: docker.socketPath, ...(envAllowlist ? { envAllowlist } : {}) });

  test('labels, image ID and only allow-listed environment variables', async () => {
    const selectors = await attestor(['APP_ENV', 'DB_DSN', 'EMPTY']).attest(subjectWithPid(100));
    assert.deepEqual([...selectors].sort(), [
      'docker:env:APP_ENV:production',
      'docker:env:DB_DSN:host=db;user=app',
      'docker:env:EMPTY:',
      `docker:image_id:${IMAGE_ID}`,
      'docker:label:com.docker.compose.service:web',
      'docker:label:com.example.team:payments',
    ]);
    assert.equal(docker.requests.at(-1), `/containers/${DOCKER_CONTAINER}/json`);
  });

  test('without an allowlist no environment value is exposed', async () => {
    const selectors = await attestor().attest(subjectWithPid(101));
    assert.equal(selectors.filter((selector) => selector.startsWith('docker:env:')).length, 0);
    assert.ok(selectors.includes(`docker:image_id:${IMAGE_ID}`), 'the systemd cgroup form finds the same container');
  });

  test('a container the engine does not know (404) gives no selectors', async () => {
    const before = docker.requests.length;
    assert.deepEqual(await attestor().attest(subjectWithPid(200)), []);
    assert.equal(docker.requests.length - before, 1, 'the engine was asked');
  });

  test('a host process gives no selectors without asking the engine', async () => {
    const before = docker.requests.length;
    assert.deepEqual(await attestor().attest(subjectWithPid(300)), []);
    assert.equal(docker.requests.length, before);
  });

  test('an engine error fails attestation with its status and message', async () => {
    docker.failWith(500);
    try {
      await assert.rejects(attestor().attest(subjectWithPid(100)), (error) => isMeshidError(error, 'ATTESTATION_FAILED') && /attestor\(docker\): .*HTTP 500.*storage driver unavailable/.test(error.message));
    } finally {
      docker.failWith(0);
    }
  });

  test('no engine on the socket fails attestation, naming the socket', async () => {
    const missing = new DockerAttestor({ procRoot, socketPath: path.join(dir, 'absent.sock') });
    await assert.rejects(missing.attest(subjectWithPid(100)), /attestor\(docker\): cannot reach the Docker engine at .*absent\.sock: ENOENT/);
  });
});
