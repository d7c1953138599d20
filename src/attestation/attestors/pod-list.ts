import type { CgroupIds } from './cgroup-ids';

/** The parts of a v1 Pod (as the kubelet's /pods lists it) that attestation reads. */
export interface Pod {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly uid?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly spec?: {
    readonly nodeName?: string;
    readonly serviceAccountName?: string;
    readonly containers?: readonly ContainerSpec[];
    readonly initContainers?: readonly ContainerSpec[];
    readonly ephemeralContainers?: readonly ContainerSpec[];
  };
  readonly status?: {
    readonly containerStatuses?: readonly ContainerStatus[];
    readonly initContainerStatuses?: readonly ContainerStatus[];
    readonly ephemeralContainerStatuses?: readonly ContainerStatus[];
  };
}

export interface ContainerSpec {
  readonly name?: string;
  readonly image?: string;
}

export interface ContainerStatus {
  readonly name?: string;
  readonly image?: string;
  readonly imageID?: string;
  /** `<runtime>://<id>`: containerd://, cri-o://, docker:// */
  readonly containerID?: string;
}

export interface WorkloadContainer {
  readonly pod: Pod;
  readonly status: ContainerStatus;
  readonly spec: ContainerSpec | undefined;
}

/** The pods of a kubelet /pods answer, or undefined when the body is not a v1 PodList. */
export function podsOf(body: unknown): readonly Pod[] | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const list = body as { kind?: unknown; items?: unknown };
  if (list.kind !== 'PodList' || !Array.isArray(list.items)) return undefined;
  return list.items as Pod[];
}

/** The pod with the cgroup's pod UID and, in it, the container (of any kind) with its ID. */
export function findWorkloadContainer(pods: readonly Pod[], ids: Required<CgroupIds>): WorkloadContainer | undefined {
  const pod = pods.find((candidate) => candidate.metadata?.uid === ids.podUid);
  if (!pod) return undefined;
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.ephemeralContainerStatuses ?? [])];
  const status = statuses.find((candidate) => runtimeContainerId(candidate.containerID) === ids.containerId);
  if (!status) return undefined;
  const specs = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])];
  return { pod, status, spec: specs.find((candidate) => candidate.name === status.name) };
}

function runtimeContainerId(containerId: string | undefined): string | undefined {
  const separator = containerId?.indexOf('://') ?? -1;
  return separator < 0 ? undefined : containerId?.slice(separator + 3);
}
