import assert from 'node:assert/strict';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isMeshidError } from '../../src/common/errors';
import { K8sAttestor, type K8sAttestorOptions } from '../../src/attestation/attestors/k8s-attestor';
import { FakeClock } from '../support/fake-clock';
import { kubeletPod, startFakeKubelet, type FakeKubelet, type PodFixture } from '../support/fake-kubelet';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { makeServingCert, type ServingCert } from '../support/test-tls';
import { until } from '../support/until';
import { subjectWithPid } from '../support/attestation-subject';
import { needs } from '../support/tools';

const CGROUP_FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'cgroup');
const WEB_POD = '2c48913c-b29f-11e7-9350-020968147796';
const WEB_CONTAINER = '9bca8d63d5fa610783847915bcff0ecac1273e5b4bed3f6fa1b07350e0135961';
const INIT_POD = '7d0f5a3e-1c2b-4d5e-8f90-a1b2c3d4e5f6';
const INIT_CONTAINER = '45490e76e0878aaa4d9808f7d2eefba37f093c3efbba9838b6d8ab804d9bd814';

// pid → the cgroup file of a process on a real node.
const PROCESSES: Record<number, string> = {
  100: 'v2-systemd-burstable-containerd.txt', // the web pod's app container
  200: 'v1-cgroupfs-besteffort-docker.txt', // the init container of the migrate pod
  300: 'v2-host-init.txt', // a host process
  400: 'v1-conflicting-pods.txt',
};

const webPod: PodFixture = {
  name: 'web-7f9c6d5b8-x2x4q',
  namespace: 'shop',
  uid: WEB_POD,
  serviceAccount: 'web',
  nodeName: 'node-a',
  labels: { app: 'web', 'app.kubernetes.io/version': '1.4.2' },
  containers: [
    { name: 'app', image: 'nginx:1.25', id: WEB_CONTAINER },
    { name: 'proxy', image: 'envoyproxy/envoy:v1.30.1', id: 'c'.repeat(64) },
  ],
};
const migratePod: PodFixture = {
  name: 'migrate',
  namespace: 'shop',
  uid: INIT_POD,
  containers: [{ name: 'main', image: 'ghcr.io/acme/api:2.0', id: 'd'.repeat(64) }],
  initContainers: [{ name: 'schema', image: 'ghcr.io/acme/migrate:2.0', id: INIT_CONTAINER, runtime: 'docker' }],
};
const otherPod: PodFixture = { name: 'db-0', namespace: 'data', uid: '0b8e6f1a-3c4d-4e5f-9a0b-1c2d3e4f5a6b', containers: [{ name: 'db', image: 'postgres:16', id: 'e'.repeat(64) }] };

describe('k8s attestor against a kubelet over real HTTPS', { skip: needs('openssl') }, () => {
  let dir: string;
  let procRoot: string;
  let cert: ServingCert;
  let otherCa: ServingCert;
  let kubelet: FakeKubelet;
  let tokenFile: string;

  before(async () => {
    dir = await makeTempDir('meshid-k8s-');
    [cert, otherCa] = await Promise.all([makeServingCert(dir, 'kubelet'), makeServingCert(dir, 'elsewhere')]);
    kubelet = await startFakeKubelet(cert, ['token-one', 'token-two']);
    tokenFile = path.join(dir, 'token');
    await writeFile(tokenFile, 'token-one\n');
    procRoot = path.join(dir, 'proc');
    for (const [pid, fixture] of Object.entries(PROCESSES)) {
      await mkdir(path.join(procRoot, pid), { recursive: true });
      await copyFile(path.join(CGROUP_FIXTURES, fixture), path.join(procRoot, pid, 'cgroup'));
    }
  });
  after(async () => {
    await kubelet?.close();
    await removeTempDirs();
  });

  const attestor = (options: Partial<K8sAttestorOptions> = {}): K8sAttestor =>
    new K8sAttestor({ procRoot, kubeletUrl: kubelet.url, tokenFile, caFile: cert.caFile, clock: new FakeClock(), ...options });

  test('a pod container gets the k8s selectors of its pod and itself', async () => {
    kubelet.setPods([webPod, otherPod].map(kubeletPod));
    const selectors = await attestor().attest(subjectWithPid(100));
    assert.deepEqual([...selectors].sort(), [
      'k8s:container-image:docker.io/library/nginx:1.25',
      `k8s:container-image:docker.io/library/nginx@sha256:${WEB_CONTAINER.split('').reverse().join('')}`,
      'k8s:container-image:nginx:1.25',
      'k8s:container-name:app',
      'k8s:node-name:node-a',
      'k8s:ns:shop',
      `k8s:pod-label:app.kubernetes.io/version:1.4.2`,
      'k8s:pod-label:app:web',
      'k8s:pod-name:web-7f9c6d5b8-x2x4q',
      `k8s:pod-uid:${WEB_POD}`,
      'k8s:sa:web',
    ]);
    assert.equal(kubelet.authorizations.at(-1), 'Bearer token-one');
  });

  test('init containers are found by their status; nodeName overrides the pod spec', async () => {
    kubelet.setPods([webPod, migratePod].map(kubeletPod));
    const selectors = await attestor({ nodeName: 'node-from-config' }).attest(subjectWithPid(200));
    assert.ok(selectors.includes('k8s:container-name:schema'), selectors.join(' '));
    assert.ok(selectors.includes('k8s:container-image:ghcr.io/acme/migrate:2.0'));
    assert.ok(selectors.includes('k8s:node-name:node-from-config'));
    assert.ok(!selectors.includes('k8s:node-name:node-a'));
  });

  test('a host process is not a Kubernetes workload: no selectors and no kubelet request', async () => {
    const before = kubelet.authorizations.length;
    assert.deepEqual(await attestor().attest(subjectWithPid(300)), []);
    assert.equal(kubelet.authorizations.length, before);
  });

  test('a pod list is shared: concurrent and repeated attestations fetch it once', async () => {
    kubelet.setPods([webPod].map(kubeletPod));
    const shared = attestor();
    const before = kubelet.authorizations.length;
    await Promise.all([shared.attest(subjectWithPid(100)), shared.attest(subjectWithPid(100)), shared.attest(subjectWithPid(100))]);
    await shared.attest(subjectWithPid(100));
    assert.equal(kubelet.authorizations.length - before, 1);
  });

  test('on a miss, a cached list older than the call is refetched at once, without waiting', async () => {
    kubelet.setPods([webPod].map(kubeletPod));
    const clock = new FakeClock();
    const shared = attestor({ clock });
    await shared.attest(subjectWithPid(100));
    const before = kubelet.authorizations.length;
    kubelet.setPods([webPod, migratePod].map(kubeletPod)); // a pod started after the list was cached
    await clock.advance(100);
    const selectors = await shared.attest(subjectWithPid(200));
    assert.ok(selectors.includes('k8s:pod-name:migrate'));
    assert.equal(kubelet.authorizations.length - before, 1);
    assert.equal(clock.pendingTimers, 0, 'no poll wait was needed');
  });

  test('a pod not listed yet is polled for until it appears', async () => {
    kubelet.setPods([otherPod].map(kubeletPod));
    const clock = new FakeClock();
    const before = kubelet.authorizations.length;
    const result = attestor({ clock, pollIntervalMs: 500 }).attest(subjectWithPid(100));
    await until(() => clock.pendingTimers === 1, 'the attestor to wait for its next poll');
    assert.equal(kubelet.authorizations.length - before, 1);
    kubelet.setPods([otherPod, webPod].map(kubeletPod));
    await clock.advance(500);
    assert.ok((await result).includes('k8s:pod-name:web-7f9c6d5b8-x2x4q'));
    assert.equal(kubelet.authorizations.length - before, 2);
  });

  test('a pod that never appears fails after maxPollAttempts lists', async () => {
    kubelet.setPods([otherPod].map(kubeletPod));
    const clock = new FakeClock();
    const before = kubelet.authorizations.length;
    let settled = false;
    let failure: unknown;
    void attestor({ clock, pollIntervalMs: 500, maxPollAttempts: 3 })
      .attest(subjectWithPid(100))
      .then(
        () => (settled = true),
        (error: unknown) => {
          failure = error;
          settled = true;
        },
      );
    while (!settled) {
      await until(() => settled || clock.pendingTimers === 1, 'the next poll or the failure');
      if (!settled) await clock.advance(500);
    }
    assert.ok(isMeshidError(failure, 'ATTESTATION_FAILED'), String(failure));
    assert.match(failure.message, new RegExp(`pod ${WEB_POD} with container ${WEB_CONTAINER} \\(3 pod lists fetched\\)`));
    assert.equal(kubelet.authorizations.length - before, 3);
  });

  test('a kubelet certificate from another CA is refused, naming the TLS failure', async () => {
    kubelet.setPods([webPod].map(kubeletPod));
    // The kubelet sends its CA with its certificate; that CA is not the one configured.
    await assert.rejects(attestor({ caFile: otherCa.caFile }).attest(subjectWithPid(100)), (error) => {
      assert.ok(isMeshidError(error, 'ATTESTATION_FAILED'));
      assert.match(error.message, /attestor\(k8s\): cannot list pods .*SELF_SIGNED_CERT_IN_CHAIN/);
      assert.doesNotMatch(error.message, /token-one/);
      return true;
    });
  });

  test('skipKubeletVerification accepts the unknown certificate', async () => {
    kubelet.setPods([webPod].map(kubeletPod));
    const selectors = await attestor({ caFile: otherCa.caFile, skipKubeletVerification: true }).attest(subjectWithPid(100));
    assert.ok(selectors.includes('k8s:ns:shop'));
  });

  test('a rotated token file is read again: the next request carries the new token', async () => {
    kubelet.setPods([webPod].map(kubeletPod));
    const clock = new FakeClock();
    const rotating = attestor({ clock, tokenFile: path.join(dir, 'rotating-token') });
    await writeFile(path.join(dir, 'rotating-token'), 'token-one');
    await rotating.attest(subjectWithPid(100));
    assert.equal(kubelet.authorizations.at(-1), 'Bearer token-one');
    await writeFile(path.join(dir, 'rotating-token'), 'token-two');
    await clock.advance(60_000); // past the pod list cache
    await rotating.attest(subjectWithPid(100));
    assert.equal(kubelet.authorizations.at(-1), 'Bearer token-two');
  });

  test('401 fails attestation with the status, never the token', async () => {
    await writeFile(path.join(dir, 'stale-token'), 'token-revoked');
    await assert.rejects(attestor({ tokenFile: path.join(dir, 'stale-token') }).attest(subjectWithPid(100)), (error) => {
      assert.ok(isMeshidError(error, 'ATTESTATION_FAILED'));
      assert.match(error.message, /HTTP 401/);
      assert.doesNotMatch(error.message, /token-revoked/);
      return true;
    });
  });

  test('cgroups naming two pods, or a missing process, fail with the attestor named', async () => {
    await assert.rejects(attestor().attest(subjectWithPid(400)), /attestor\(k8s\): pid 400: cgroup lines disagree/);
    await assert.rejects(attestor().attest(subjectWithPid(999)), /attestor\(k8s\): cannot read cgroups of pid 999: ENOENT/);
  });

  test('a kubelet URL without TLS is refused at construction', () => {
    assert.throws(() => attestor({ kubeletUrl: 'http://127.0.0.1:10255' }), (error) => isMeshidError(error, 'INVALID_CONFIG'));
  });
});
