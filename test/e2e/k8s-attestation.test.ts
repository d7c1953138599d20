import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestAgent, type Harness } from '../support/agent-harness';
import { kubeletPod, startFakeKubelet, type FakeKubelet } from '../support/fake-kubelet';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { makeServingCert } from '../support/test-tls';
import { securityHeader, StreamReader, workloadClient, type X509SvidResponse } from '../support/workload-client';
import { needs } from '../support/tools';

const POD_UID = '2c48913c-b29f-11e7-9350-020968147796';
const CONTAINER_ID = '9bca8d63d5fa610783847915bcff0ecac1273e5b4bed3f6fa1b07350e0135961';

/**
 * The agent as deployed on a Kubernetes node, end to end: config → k8s attestor → the kubelet's
 * pod list (a real HTTPS server speaking its JSON) → a template entry. This process plays the pod:
 * a proc root overlay gives its pid the cgroup a containerd pod has under the systemd driver,
 * while status, stat and exe stay the real ones (the kernel's peer credentials name this pid).
 */
describe('Kubernetes: one template entry gives pods Istio-style identities', { skip: needs('openssl') }, () => {
  let kubelet: FakeKubelet;
  let harness: Harness;
  before(async () => {
    const dir = await makeTempDir('meshid-k8s-');
    const procRoot = path.join(dir, 'proc');
    const pidDir = path.join(procRoot, String(process.pid));
    await mkdir(pidDir, { recursive: true });
    for (const name of ['status', 'stat', 'exe']) await symlink(`/proc/${process.pid}/${name}`, path.join(pidDir, name));
    await writeFile(path.join(pidDir, 'cgroup'), `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_UID.replaceAll('-', '_')}.slice/cri-containerd-${CONTAINER_ID}.scope\n`);

    const cert = await makeServingCert(dir, 'kubelet');
    kubelet = await startFakeKubelet(cert, ['sa-token']);
    kubelet.setPods([
      kubeletPod({ name: 'other', namespace: 'default', uid: '11111111-1111-4111-8111-111111111111', containers: [{ name: 'app', image: 'nginx:1.27', id: 'a'.repeat(64) }] }),
      kubeletPod({
        name: 'checkout-7d9f',
        namespace: 'payments',
        uid: POD_UID,
        serviceAccount: 'checkout',
        nodeName: 'node-a',
        labels: { app: 'checkout' },
        containers: [{ name: 'app', image: 'registry.example/checkout:2.1', id: CONTAINER_ID }],
      }),
    ]);
    await writeFile(path.join(dir, 'token'), 'sa-token\n');
    harness = await startTestAgent(
      {
        attestors: { k8s: { kubeletUrl: kubelet.url, tokenFile: path.join(dir, 'token'), caFile: cert.caFile } },
        entries: [
          { spiffeIdTemplate: 'spiffe://{{trustDomain}}/ns/{{k8s.ns}}/sa/{{k8s.sa}}', selectors: ['k8s:ns:*', 'k8s:sa:*'] },
          { spiffeId: 'spiffe://example.org/checkout-app', selectors: ['k8s:pod-label:app:checkout', 'k8s:container-name:app'] },
          { spiffeId: 'spiffe://example.org/never', selectors: ['k8s:ns:kube-system'] },
        ],
      },
      undefined,
      { procRoot },
    );
  });
  after(async () => {
    await harness?.agent.stop();
    await kubelet?.close();
    await removeTempDirs();
  });

  it('the pod gets spiffe://<td>/ns/<namespace>/sa/<account>, then its label entry, in entry order', async () => {
    const stream = new StreamReader(workloadClient(harness.socketPath).FetchX509SVID({}, securityHeader()));
    try {
      const message: X509SvidResponse = await stream.next(30_000);
      assert.deepEqual(
        message.svids.map((svid) => svid.spiffe_id),
        ['spiffe://example.org/ns/payments/sa/checkout', 'spiffe://example.org/checkout-app'],
      );
    } finally {
      stream.call.cancel();
    }
    assert.equal(kubelet.authorizations.at(-1), 'Bearer sa-token', 'the service-account token, trimmed');
  });
});
