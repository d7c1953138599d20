import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ServingCert } from './test-tls';

export interface ContainerFixture {
  readonly name: string;
  readonly image: string;
  /** The runtime's 64-hex ID; the status carries it as `<runtime>://<id>`. */
  readonly id: string;
  readonly runtime?: 'containerd' | 'cri-o' | 'docker';
}

export interface PodFixture {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly serviceAccount?: string;
  readonly nodeName?: string;
  readonly labels?: Record<string, string>;
  readonly containers: readonly ContainerFixture[];
  readonly initContainers?: readonly ContainerFixture[];
}

/** The fully qualified reference a runtime reports for a short image name. */
function qualified(image: string): string {
  const named = image.includes('/') ? image : `library/${image}`;
  return named.split('/')[0]?.includes('.') ? named : `docker.io/${named}`;
}

function containerSpec(container: ContainerFixture): object {
  return {
    name: container.name,
    image: container.image,
    resources: { requests: { cpu: '100m', memory: '64Mi' } },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  };
}

function containerStatus(container: ContainerFixture, running: boolean): object {
  const reference = qualified(container.image);
  const repository = reference.replace(/:[^:/]+$/, '');
  return {
    name: container.name,
    state: running ? { running: { startedAt: '2026-01-01T00:00:05Z' } } : { terminated: { exitCode: 0, reason: 'Completed', startedAt: '2026-01-01T00:00:01Z', finishedAt: '2026-01-01T00:00:02Z', containerID: `${container.runtime ?? 'containerd'}://${container.id}` } },
    lastState: {},
    ready: running,
    restartCount: 0,
    image: reference,
    imageID: `${repository}@sha256:${container.id.split('').reverse().join('')}`,
    containerID: `${container.runtime ?? 'containerd'}://${container.id}`,
    started: running,
  };
}

/** A Pod as the kubelet's /pods lists it: metadata, spec and status in the v1 shape. */
export function kubeletPod(pod: PodFixture): object {
  return {
    metadata: {
      name: pod.name,
      namespace: pod.namespace,
      uid: pod.uid,
      resourceVersion: '48213',
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: pod.labels ?? {},
      annotations: { 'kubernetes.io/config.seen': '2026-01-01T00:00:00.000000000Z', 'kubernetes.io/config.source': 'api' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${pod.name}-rs`, uid: '11111111-2222-4333-8444-555555555555', controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      volumes: [{ name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }], defaultMode: 420 } }],
      initContainers: (pod.initContainers ?? []).map(containerSpec),
      containers: pod.containers.map(containerSpec),
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: pod.serviceAccount ?? 'default',
      serviceAccount: pod.serviceAccount ?? 'default',
      nodeName: pod.nodeName ?? 'node-a',
      securityContext: {},
      schedulerName: 'default-scheduler',
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:06Z' }],
      hostIP: '10.0.0.5',
      podIP: '10.244.1.7',
      podIPs: [{ ip: '10.244.1.7' }],
      startTime: '2026-01-01T00:00:00Z',
      initContainerStatuses: (pod.initContainers ?? []).map((container) => containerStatus(container, false)),
      containerStatuses: pod.containers.map((container) => containerStatus(container, true)),
      qosClass: 'Burstable',
    },
  };
}

export interface FakeKubelet {
  readonly url: string;
  /** The pods /pods lists from now on. */
  setPods(pods: readonly object[]): void;
  /** Authorization header of every /pods request, in order (undefined when none was sent). */
  readonly authorizations: (string | undefined)[];
  close(): Promise<void>;
}

/**
 * A kubelet's authenticated port as far as workload attestation uses it: HTTPS on 127.0.0.1,
 * bearer tokens checked (401 otherwise, as the kubelet's authenticator answers), GET /pods
 * answering a v1 PodList.
 */
export async function startFakeKubelet(cert: ServingCert, acceptedTokens: readonly string[]): Promise<FakeKubelet> {
  let items: readonly object[] = [];
  const authorizations: (string | undefined)[] = [];
  const server = https.createServer({ cert: `${cert.certPem}${cert.caPem}`, key: cert.keyPem }, (request, response) => {
    if (request.url !== '/pods' || request.method !== 'GET') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    authorizations.push(request.headers.authorization);
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (token === undefined || !acceptedTokens.includes(token)) {
      response.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized');
      return;
    }
    const body = JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items });
    response.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    setPods: (pods) => {
      items = pods;
    },
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
