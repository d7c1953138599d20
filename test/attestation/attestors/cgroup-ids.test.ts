import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isMeshidError } from '../../../src/common/errors';
import { parseCgroupIds, type CgroupIds } from '../../../src/attestation/attestors/cgroup-ids';

const FIXTURES = path.join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'cgroup');
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8');

const POD_A = '2c48913c-b29f-11e7-9350-020968147796';
const POD_B = '7d0f5a3e-1c2b-4d5e-8f90-a1b2c3d4e5f6';
const POD_C = '0b8e6f1a-3c4d-4e5f-9a0b-1c2d3e4f5a6b';
const ID_1 = '9bca8d63d5fa610783847915bcff0ecac1273e5b4bed3f6fa1b07350e0135961';
const ID_2 = '45490e76e0878aaa4d9808f7d2eefba37f093c3efbba9838b6d8ab804d9bd814';
const ID_3 = 'b5b8a33c5a4ea8cc8ba0a1a13a3a9b8e8d8e2bd1c4a0b1d2e3f4a5b6c7d8e9f0';
const ID_4 = 'e2c6b4b5d2f0b9e0ad0d1f3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0f9e';

/** Every fixture with what a real node's kernel file of that shape must give. */
const EXPECTED: Record<string, CgroupIds> = {
  'v1-cgroupfs-burstable-containerd.txt': { podUid: POD_A, containerId: ID_1 },
  'v1-cgroupfs-besteffort-docker.txt': { podUid: POD_B, containerId: ID_2 },
  'v1-cgroupfs-guaranteed.txt': { podUid: POD_C, containerId: ID_3 },
  'v1-cgroupfs-static-pod.txt': { podUid: '5ab8d8e4ad3d4f7a1c49d1de9c4c3a55', containerId: ID_4 },
  'v1-systemd-burstable-crio.txt': { podUid: POD_A, containerId: ID_1 },
  'v2-systemd-burstable-containerd.txt': { podUid: POD_A, containerId: ID_1 },
  'v2-systemd-besteffort-crio.txt': { podUid: POD_B, containerId: ID_2 },
  'v2-systemd-guaranteed-docker.txt': { podUid: POD_C, containerId: ID_3 },
  'v2-cgroupfs-besteffort-containerd.txt': { podUid: POD_B, containerId: ID_2 },
  'v2-cgroupns-relative.txt': { podUid: POD_A, containerId: ID_1 },
  'v2-kind-nested.txt': { podUid: POD_B, containerId: ID_2 },
  // conmon watches a CRI-O container from the pod's slice but is not that container.
  'v2-crio-conmon.txt': { podUid: POD_A },
  // A container that creates cgroups named like another pod's below its own does not become it.
  'v2-nested-look-alike.txt': { podUid: POD_A, containerId: ID_1 },
  'v1-docker.txt': { containerId: ID_4 },
  'v2-docker-in-docker.txt': { containerId: ID_4 }, // the host's engine knows the outer one
  'v2-docker-systemd.txt': { containerId: ID_4 },
  'v2-host-init.txt': {},
  'v2-host-user-session.txt': {},
  'v1-host-user-session.txt': {},
  'v2-host-system-service.txt': {},
};

test('every cgroup fixture gives its pod UID and container ID', () => {
  const files = readdirSync(FIXTURES).filter((name) => !name.startsWith('v1-conflicting'));
  assert.deepEqual(files.sort(), Object.keys(EXPECTED).sort(), 'each fixture has an expectation');
  for (const [name, expected] of Object.entries(EXPECTED)) {
    assert.deepEqual(parseCgroupIds(fixture(name)), expected, name);
  }
});

test('systemd pod UIDs come back with dashes', () => {
  const ids = parseCgroupIds(fixture('v2-systemd-burstable-containerd.txt'));
  assert.ok(fixture('v2-systemd-burstable-containerd.txt').includes(POD_A.replace(/-/g, '_')));
  assert.equal(ids.podUid, POD_A);
});

test('v1 lines naming two different pods are an error, not a pick', () => {
  assert.throws(() => parseCgroupIds(fixture('v1-conflicting-pods.txt')), (error) => isMeshidError(error, 'ATTESTATION_FAILED') && /disagree/.test(error.message));
});

test('look-alike names are not IDs', () => {
  // Too short, upper case, wrong prefix: none of these is what a runtime writes.
  assert.deepEqual(parseCgroupIds('0::/docker/abc123\n'), {});
  assert.deepEqual(parseCgroupIds(`0::/docker/${ID_1.toUpperCase()}\n`), {});
  assert.deepEqual(parseCgroupIds(`0::/system.slice/evil-${ID_1}.scope\n`), {});
  assert.deepEqual(parseCgroupIds(`0::/kubepods/burstable/podnot-a-uid/${ID_1}\n`), { containerId: ID_1 });
  assert.deepEqual(parseCgroupIds(''), {});
});
