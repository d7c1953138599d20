import type { Manifest } from './repo-files';

/** The parts of the Kubernetes pod API the deploy tests read (field names as in core/v1). */
export interface Probe {
  httpGet?: { host?: string; path?: string; port?: number | string };
  tcpSocket?: { port?: number | string };
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath?: string } } }[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsUser?: number;
    runAsNonRoot?: boolean;
    privileged?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
    seccompProfile?: { type?: string };
  };
  volumeMounts?: VolumeMount[];
}

export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

export interface Volume {
  name: string;
  hostPath?: { path: string; type?: string };
  configMap?: { name: string; items?: KeyToPath[] };
  secret?: { secretName: string; items?: KeyToPath[]; defaultMode?: number };
  projected?: { defaultMode?: number; sources: { configMap?: { name: string; items?: KeyToPath[] }; secret?: { name: string; items?: KeyToPath[] } }[] };
  emptyDir?: { medium?: string; sizeLimit?: string };
}

export interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  hostPID?: boolean;
  hostNetwork?: boolean;
  dnsPolicy?: string;
  priorityClassName?: string;
  tolerations?: { key?: string; operator?: string; effect?: string }[];
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type?: string } };
  containers: Container[];
  volumes?: Volume[];
}

export interface WorkloadSpec {
  selector: { matchLabels: Record<string, string> };
  updateStrategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string } };
  template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
}

export function workloadSpec(manifest: Manifest): WorkloadSpec {
  return manifest.spec as WorkloadSpec;
}

export function containerNamed(pod: PodSpec, name: string): Container {
  const found = pod.containers.find((container) => container.name === name);
  if (!found) throw new Error(`no container ${name} (have ${pod.containers.map((container) => container.name).join(', ')})`);
  return found;
}

export function volumeNamed(pod: PodSpec, name: string): Volume {
  const found = pod.volumes?.find((volume) => volume.name === name);
  if (!found) throw new Error(`no volume ${name}`);
  return found;
}

/** The mount whose directory contains `file` (the deepest one), with the volume behind it. */
export function mountHolding(pod: PodSpec, container: Container, file: string): { mount: VolumeMount; volume: Volume; relative: string } {
  const mounts = (container.volumeMounts ?? []).filter((mount) => file.startsWith(`${mount.mountPath.replace(/\/$/, '')}/`));
  const mount = mounts.sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  if (!mount) throw new Error(`no volume of container ${container.name} holds ${file}`);
  return { mount, volume: volumeNamed(pod, mount.name), relative: file.slice(mount.mountPath.replace(/\/$/, '').length + 1) };
}

/** Which ConfigMap or Secret key a file inside a configMap/secret/projected volume comes from. */
export function keySourceOf(volume: Volume, relative: string): { kind: 'ConfigMap' | 'Secret'; name: string; key: string; mode: number | undefined } | undefined {
  const sources = [
    ...(volume.configMap ? [{ kind: 'ConfigMap' as const, name: volume.configMap.name, items: volume.configMap.items }] : []),
    ...(volume.secret ? [{ kind: 'Secret' as const, name: volume.secret.secretName, items: volume.secret.items }] : []),
    ...(volume.projected?.sources ?? []).flatMap((source) => [
      ...(source.configMap ? [{ kind: 'ConfigMap' as const, name: source.configMap.name, items: source.configMap.items }] : []),
      ...(source.secret ? [{ kind: 'Secret' as const, name: source.secret.name, items: source.secret.items }] : []),
    ]),
  ];
  const defaultMode = volume.projected?.defaultMode ?? volume.secret?.defaultMode;
  for (const source of sources) {
    // Without items every key appears as a file of its own name.
    const item = source.items ? source.items.find((entry) => entry.path === relative) : { key: relative, path: relative, mode: undefined };
    if (item) return { kind: source.kind, name: source.name, key: item.key, mode: item.mode ?? defaultMode };
  }
  return undefined;
}
