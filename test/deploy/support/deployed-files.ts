import assert from 'node:assert/strict';
import { execForm, parseDockerfile } from './dockerfile';
import { containerNamed, keySourceOf, mountHolding, workloadSpec, type Container } from './pod-spec';
import { kubernetesManifests, only, parseEmbeddedYaml, repoFile, type Manifest } from './repo-files';

/**
 * The objects of deploy/kubernetes, and the files their containers read, followed the way the
 * cluster would: through the image's entrypoint, the container's mounts and the ConfigMap keys
 * behind them. A config that no container actually reads cannot pass the tests this way.
 */
export const manifests = kubernetesManifests();
export const daemonSet = only(manifests, 'DaemonSet', 'meshid-agent');
export const agentPod = workloadSpec(daemonSet).template.spec;
export const agent = containerNamed(agentPod, 'meshid');
export const workload = only(manifests, 'Deployment', 'web');
export const workloadPod = workloadSpec(workload).template.spec;
export const envoy = containerNamed(workloadPod, 'envoy');

/** The file the image's ENTRYPOINT passes to --config. */
export function entrypointConfigPath(): string {
  const entrypoint = parseDockerfile(repoFile('Dockerfile')).filter((instruction) => instruction.keyword === 'ENTRYPOINT').pop();
  const argv = entrypoint ? execForm(entrypoint.args) : undefined;
  const at = argv?.indexOf('--config') ?? -1;
  assert.ok(argv && at >= 0 && argv[at + 1], `the Dockerfile ENTRYPOINT names no --config file: ${entrypoint?.args}`);
  return argv[at + 1] as string;
}

/** The text a container of `owner` sees at `file`, resolved through its mounts to a ConfigMap key. */
export function configMapFileText(owner: Manifest, container: Container, file: string): string {
  const { volume, relative } = mountHolding(workloadSpec(owner).template.spec, container, file);
  const source = keySourceOf(volume, relative);
  assert.equal(source?.kind, 'ConfigMap', `${file} does not come from a ConfigMap`);
  const configMap = only(manifests, 'ConfigMap', source.name);
  assert.equal(configMap.metadata.namespace, owner.metadata.namespace, `ConfigMap ${source.name} is in another namespace`);
  const text = (configMap.data as Record<string, string> | undefined)?.[source.key];
  assert.equal(typeof text, 'string', `ConfigMap ${source.name} has no key ${source.key}`);
  return text as string;
}

/** meshid.yaml exactly as the agent container reads it. */
export function agentConfigRaw(): Record<string, unknown> {
  return parseEmbeddedYaml(configMapFileText(daemonSet, agent, entrypointConfigPath()), 'meshid.yaml') as Record<string, unknown>;
}

/** The Envoy bootstrap exactly as the sidecar reads it (its --config-path). */
export function envoyBootstrap(): Record<string, unknown> {
  const configIndex = (envoy.args ?? []).findIndex((arg) => arg === '--config-path' || arg === '-c');
  const file = envoy.args?.[configIndex + 1];
  assert.ok(configIndex >= 0 && file, `envoy is not started with --config-path: ${JSON.stringify(envoy.args)}`);
  return parseEmbeddedYaml(configMapFileText(workload, envoy, file), 'envoy.yaml') as Record<string, unknown>;
}

/** Every value under `key` anywhere in a parsed document. */
export function collect(value: unknown, key: string): unknown[] {
  if (Array.isArray(value)) return value.flatMap((item) => collect(item, key));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([name, child]) => [...(name === key ? [child] : []), ...collect(child, key)]);
}
