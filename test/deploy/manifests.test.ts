import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { needs } from '../support/tools';
import { configProblems } from './support/config-problems';
import { agent, agentConfigRaw, agentPod, daemonSet, entrypointConfigPath, manifests } from './support/deployed-files';
import { containerNamed, keySourceOf, mountHolding, workloadSpec, type Probe } from './support/pod-spec';
import { KUBERNETES_DIR, only, parseKubernetesYaml, repoFile, yamlFilesIn, type Manifest } from './support/repo-files';

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PriorityClass']);
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

function adminPort(): number {
  const listen = (agentConfigRaw().admin as { listen?: string } | undefined)?.listen ?? '';
  const match = /^(127\.0\.0\.1|localhost|\[::1\]):(\d+)$/.exec(listen);
  assert.ok(match, `admin.listen "${listen}" is not a loopback host:port`);
  return Number(match[2]);
}

describe('deploy/kubernetes: the files', () => {
  test('every object names apiVersion, kind, name and (when namespaced) a namespace, once', () => {
    assert.ok(manifests.length >= 8, `only ${manifests.length} objects`);
    const seen = new Set<string>();
    for (const manifest of manifests) {
      const id = `${manifest.kind}/${manifest.metadata?.namespace ?? ''}/${manifest.metadata?.name}`;
      assert.match(manifest.apiVersion ?? '', /^([a-z0-9.-]+\/)?v\d/, `${manifest.file}: ${id} apiVersion`);
      assert.ok(manifest.metadata?.name, `${manifest.file}: an object without a name`);
      assert.equal(CLUSTER_SCOPED.has(manifest.kind), manifest.metadata.namespace === undefined, `${manifest.file}: ${id} namespace`);
      assert.ok(!seen.has(id), `${id} appears twice`);
      seen.add(id);
    }
    for (const manifest of manifests.filter((candidate) => candidate.metadata.namespace)) {
      assert.ok(
        manifests.some((candidate) => candidate.kind === 'Namespace' && candidate.metadata.name === manifest.metadata.namespace),
        `${manifest.kind}/${manifest.metadata.name} is in namespace ${manifest.metadata.namespace}, which no file creates`,
      );
    }
  });

  test('kustomization.yaml lists every manifest file, and only those', () => {
    const [kustomization] = parseKubernetesYaml(repoFile('deploy/kubernetes/kustomization.yaml'), 'kustomization.yaml') as { resources?: string[] }[];
    const files = yamlFilesIn(KUBERNETES_DIR).filter((file) => file !== 'kustomization.yaml');
    assert.deepEqual([...(kustomization?.resources ?? [])].sort(), files);
  });

  test('kubectl kustomize renders exactly these objects, with the image set in the kustomization', { skip: needs('kubectl') }, () => {
    const rendered = parseKubernetesYaml(execFileSync('kubectl', ['kustomize', KUBERNETES_DIR], { encoding: 'utf8' }), 'kubectl kustomize') as Manifest[];
    const ids = (list: readonly Manifest[]): string[] => list.map((item) => `${item.kind}/${item.metadata.namespace ?? ''}/${item.metadata.name}`).sort();
    assert.deepEqual(ids(rendered), ids(manifests));
    const renderedAgent = workloadSpec(only(rendered, 'DaemonSet', 'meshid-agent')).template.spec;
    assert.match(containerNamed(renderedAgent, 'meshid').image ?? '', /^registry\.example\.com\/meshid:/);
  });
});

describe('deploy/kubernetes: access', () => {
  test('the agent namespace admits the host namespaces and hostPath its pods need', () => {
    const namespace = only(manifests, 'Namespace', daemonSet.metadata.namespace ?? '');
    assert.equal(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'privileged');
  });

  test('RBAC: only get on the kubelet pods subresources (nodes/proxy included), for the agent ServiceAccount', () => {
    const role = only(manifests, 'ClusterRole', 'meshid-agent-kubelet-pods');
    const rules = role.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    const granted = rules.flatMap((rule) => rule.resources.flatMap((resource) => rule.verbs.map((verb) => `${rule.apiGroups.join(',')}|${resource}|${verb}`)));
    assert.ok(granted.includes('|nodes/proxy|get'), `nodes/proxy get is not granted: ${granted.join(' ')}`);
    assert.deepEqual(granted.filter((grant) => !['|nodes/proxy|get', '|nodes/pods|get'].includes(grant)), [], 'grants beyond reading pods through the kubelet');

    const binding = only(manifests, 'ClusterRoleBinding', 'meshid-agent-kubelet-pods');
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: agentPod.serviceAccountName, namespace: daemonSet.metadata.namespace }]);
    const account = only(manifests, 'ServiceAccount', agentPod.serviceAccountName ?? '');
    assert.equal(account.metadata.namespace, daemonSet.metadata.namespace);
  });
});

describe('deploy/kubernetes: the agent DaemonSet', () => {
  test('its selector matches its pod labels', () => {
    const spec = workloadSpec(daemonSet);
    for (const [key, value] of Object.entries(spec.selector.matchLabels)) assert.equal(spec.template.metadata.labels[key], value, key);
  });

  test('runs in the host pid and network namespaces, with DNS that still resolves cluster names', () => {
    assert.equal(agentPod.hostPID, true);
    assert.equal(agentPod.hostNetwork, true);
    assert.equal(agentPod.dnsPolicy, 'ClusterFirstWithHostNet');
  });

  test('runs on every node, as node-critical, updated one node at a time', () => {
    assert.equal(agentPod.priorityClassName, 'system-node-critical');
    assert.ok(
      agentPod.tolerations?.some((toleration) => toleration.operator === 'Exists' && toleration.key === undefined && toleration.effect === undefined),
      'no toleration of every taint',
    );
    const strategy = workloadSpec(daemonSet).updateStrategy;
    assert.equal(strategy?.type, 'RollingUpdate');
    assert.ok(strategy.rollingUpdate?.maxUnavailable !== undefined, 'maxUnavailable is not set');
  });

  test('reads the config file the image entrypoint names, from the ConfigMap', () => {
    const raw = agentConfigRaw();
    assert.equal(raw.trustDomain, 'example.org');
    assert.equal(mountHolding(agentPod, agent, entrypointConfigPath()).mount.readOnly, true);
    assert.equal(agent.command, undefined, 'the image entrypoint is replaced');
    assert.equal(agent.args, undefined, 'the image entrypoint gets extra arguments');
  });

  test('the socket directory is a hostPath (DirectoryOrCreate) mounted where meshid.yaml puts the socket', () => {
    const socketPath = agentConfigRaw().socketPath as string;
    const { volume, mount, relative } = mountHolding(agentPod, agent, socketPath);
    assert.equal(relative, path.basename(socketPath), 'the socket is not directly in the mounted directory');
    assert.equal(volume.hostPath?.path, mount.mountPath);
    assert.equal(volume.hostPath?.type, 'DirectoryOrCreate');
    assert.notEqual(mount.readOnly, true);
  });

  test('the upstream CA files in meshid.yaml come from the Secret, the key readable by its owner only', () => {
    const upstream = agentConfigRaw().upstream as { type: string; certFile: string; keyFile: string };
    assert.equal(upstream.type, 'disk', 'a self-signed upstream would give every node its own root');
    for (const [file, expectedMode] of [[upstream.certFile, undefined], [upstream.keyFile, 0o400]] as const) {
      const { volume, relative } = mountHolding(agentPod, agent, file);
      const source = keySourceOf(volume, relative);
      assert.equal(source?.kind, 'Secret', `${file} does not come from a Secret`);
      assert.equal(source.name, 'meshid-upstream-ca');
      if (expectedMode !== undefined) assert.equal(source.mode, expectedMode, `${file} mode`);
    }
  });

  test('probes /live and /ready over HTTP on 127.0.0.1 at the admin.listen port', () => {
    const port = adminPort();
    const expectHttp = (probe: Probe | undefined, probePath: string, name: string): void => {
      assert.deepEqual(probe?.httpGet, { host: '127.0.0.1', path: probePath, port }, name);
    };
    expectHttp(agent.livenessProbe, '/live', 'livenessProbe');
    expectHttp(agent.readinessProbe, '/ready', 'readinessProbe');
    if (agent.startupProbe) expectHttp(agent.startupProbe, '/live', 'startupProbe');
    assert.deepEqual(agent.ports?.map((declared) => declared.containerPort), [port]);
  });

  test('has every capability dropped, no privilege escalation, a read-only root and the default seccomp profile', () => {
    const context = agent.securityContext;
    assert.deepEqual(context?.capabilities, { drop: ['ALL'] });
    assert.equal(context?.allowPrivilegeEscalation, false);
    assert.notEqual(context?.privileged, true);
    assert.equal(context?.readOnlyRootFilesystem, true);
    assert.equal(context?.seccompProfile?.type, 'RuntimeDefault');
  });

  test('with a read-only root, meshid can still write its socket directory and dataDir', () => {
    const raw = agentConfigRaw();
    for (const dir of [path.dirname(raw.socketPath as string), raw.dataDir as string]) {
      const { mount, volume } = mountHolding(agentPod, agent, `${dir}/probe`);
      assert.notEqual(mount.readOnly, true, dir);
      assert.ok(volume.hostPath || volume.emptyDir, `${dir} is on a ${Object.keys(volume).join('/')} volume`);
    }
  });

  test('requests and limits CPU and memory', () => {
    for (const kind of ['requests', 'limits'] as const) {
      for (const resource of ['cpu', 'memory']) assert.ok(agent.resources?.[kind]?.[resource], `${kind}.${resource}`);
    }
  });

  test('gets the node name from spec.nodeName, and the kubelet credentials from its own ServiceAccount', () => {
    assert.deepEqual(agent.env?.find((variable) => variable.name === 'MESHID_NODE_NAME')?.valueFrom, { fieldRef: { fieldPath: 'spec.nodeName' } });
    const k8s = (agentConfigRaw().attestors as { k8s?: Record<string, unknown> } | undefined)?.k8s;
    assert.ok(k8s, 'meshid.yaml configures no k8s attestor');
    assert.equal(k8s.kubeletUrl, 'https://127.0.0.1:10250');
    assert.equal(k8s.tokenFile, `${SERVICE_ACCOUNT_DIR}/token`);
    assert.equal(k8s.caFile, `${SERVICE_ACCOUNT_DIR}/ca.crt`);
    assert.equal(k8s.skipKubeletVerification, false);
    // The token is mounted by the default automount, which nothing turns off.
    assert.notEqual(agentPod.automountServiceAccountToken, false);
    assert.notEqual(only(manifests, 'ServiceAccount', agentPod.serviceAccountName ?? '').automountServiceAccountToken, false);
    assert.ok(!(agent.volumeMounts ?? []).some((mount) => SERVICE_ACCOUNT_DIR.startsWith(mount.mountPath)), 'a volume hides the ServiceAccount token');
  });
});

describe('deploy/kubernetes: meshid.yaml in the ConfigMap', () => {
  test('gives every pod the Istio-style identity spiffe://<td>/ns/<namespace>/sa/<account>', () => {
    const entries = agentConfigRaw().entries as Record<string, unknown>[];
    assert.deepEqual(entries, [{ spiffeIdTemplate: 'spiffe://{{trustDomain}}/ns/{{k8s.ns}}/sa/{{k8s.sa}}', selectors: ['k8s:ns:*', 'k8s:sa:*'] }]);
  });

  test('passes parseConfig as a whole', () => {
    assert.deepEqual(configProblems(agentConfigRaw()), []);
  });
});
