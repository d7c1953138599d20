/**
 * Attestation latency of the real attestors on this process's pid: unix alone, and unix + k8s
 * run in parallel as the resolver runs them, against the fake kubelet of the tests (real HTTPS on
 * loopback, real bearer token check, a PodList of --pods pods). The k8s attestor reads its cgroup
 * from a fixture proc root that puts this process in one of those pods. Prints figures only.
 *
 *   node dist/bench/attest.js [--iterations 2000] [--pods 100]
 *
 * Scenarios:
 *   unix, first sight    a new attestor each time: the executable (node, ~100 MB) is hashed
 *   unix                 executable digest cached (the common case)
 *   unix+k8s, cached     the pod list is fresh in the cache (a burst of workloads)
 *   unix+k8s, fetched    the pod list is fetched from the kubelet for every attestation
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { K8sAttestor } from '../src/attestation/attestors/k8s-attestor';
import { UnixAttestor } from '../src/attestation/attestors/unix-attestor';
import type { WorkloadAttestor } from '../src/attestation/attestors/workload-attestor';
import { FakeClock } from '../test/support/fake-clock';
import { kubeletPod, startFakeKubelet, type PodFixture } from '../test/support/fake-kubelet';
import { makeServingCert } from '../test/support/test-tls';
import { percentile } from './support/stats';
import { subjectOfProcess } from '../test/support/attestation-subject';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '2000' }, pods: { type: 'string', default: '100' } } });
const iterations = Number(values.iterations);
const podCount = Number(values.pods);

const POD_UID = '2c48913c-b29f-11e7-9350-020968147796';
const CONTAINER_ID = '9bca8d63d5fa610783847915bcff0ecac1273e5b4bed3f6fa1b07350e0135961';
const FIXTURE = path.join(__dirname, '..', '..', 'test', 'fixtures', 'cgroup', 'v2-systemd-burstable-containerd.txt');

function pods(): PodFixture[] {
  const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
  const filler = Array.from({ length: Math.max(0, podCount - 1) }, (_, i) => ({
    name: `app-${i}`,
    namespace: `team-${i % 10}`,
    uid: `${hex(i, 8)}-0000-4000-8000-${hex(i, 12)}`,
    labels: { app: `app-${i}`, tier: 'backend' },
    containers: [
      { name: 'main', image: `registry.example/app-${i}:1.0`, id: hex(i, 64) },
      { name: 'sidecar', image: 'envoyproxy/envoy:v1.30.1', id: hex(i + 1_000_000, 64) },
    ],
  }));
  // The pod this process pretends to be in sits at the end, the worst case for the lookup.
  return [...filler, { name: 'bench', namespace: 'bench', uid: POD_UID, labels: { app: 'bench' }, containers: [{ name: 'main', image: 'node:20', id: CONTAINER_ID }] }];
}

async function measure(label: string, count: number, before: () => Promise<void> | void, attestors: () => readonly WorkloadAttestor[], check: (selectors: string[]) => boolean): Promise<number[]> {
  const samples: number[] = [];
  const subject = subjectOfProcess(process.pid);
  for (let i = 0; i < count; i++) {
    await before();
    const current = attestors();
    const started = process.hrtime.bigint();
    const results = await Promise.allSettled(current.map((attestor) => attestor.attest(subject)));
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    const selectors = results.flatMap((result) => (result.status === 'fulfilled' ? [...result.value] : []));
    if (!check(selectors)) throw new Error(`${label}: unexpected selectors ${selectors.join(' ')}`);
  }
  return samples;
}

function report(label: string, samples: readonly number[]): void {
  console.log(`${label.padEnd(20)} n=${String(samples.length).padEnd(5)} p50 ${percentile(samples, 50).toFixed(3)} ms  p99 ${percentile(samples, 99).toFixed(3)} ms  max ${Math.max(...samples).toFixed(3)} ms`);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshid-bench-attest-'));
  const kubelet = await startFakeKubelet(await makeServingCert(dir, 'kubelet'), ['bench-token']);
  try {
    kubelet.setPods(pods().map(kubeletPod));
    const procRoot = path.join(dir, 'proc');
    await mkdir(path.join(procRoot, String(process.pid)), { recursive: true });
    await copyFile(FIXTURE, path.join(procRoot, String(process.pid), 'cgroup'));
    await writeFile(path.join(dir, 'token'), 'bench-token');

    const clock = new FakeClock();
    const unix = new UnixAttestor({ procRoot: '/proc' });
    const k8s = new K8sAttestor({ procRoot, kubeletUrl: kubelet.url, tokenFile: path.join(dir, 'token'), caFile: path.join(dir, 'kubelet-ca.pem'), clock });
    const hasUnix = (selectors: string[]): boolean => selectors.some((selector) => selector.startsWith('unix:sha256:'));
    const hasBoth = (selectors: string[]): boolean => hasUnix(selectors) && selectors.includes('k8s:pod-name:bench');

    console.log(`attestation latency of pid ${process.pid}, ${podCount} pods listed by the kubelet`);
    const none = (): void => undefined;
    report('unix, first sight', await measure('unix, first sight', 5, none, () => [new UnixAttestor({ procRoot: '/proc' })], hasUnix));
    await measure('warm-up', 50, none, () => [unix, k8s], hasBoth);
    report('unix', await measure('unix', iterations, none, () => [unix], hasUnix));
    report('unix+k8s, cached', await measure('unix+k8s, cached', iterations, none, () => [unix, k8s], hasBoth));
    // Moving the clock past the cache's age makes every attestation fetch a new pod list.
    report('unix+k8s, fetched', await measure('unix+k8s, fetched', Math.min(iterations, 500), () => clock.advance(10_000), () => [unix, k8s], hasBoth));
  } finally {
    await kubelet.close();
    await rm(dir, { recursive: true, force: true });
  }
}

void main();
