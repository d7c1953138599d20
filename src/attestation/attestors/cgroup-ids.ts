import { MeshidError } from '../../common/errors';

export interface CgroupIds {
  /** metadata.uid of the Kubernetes pod, with dashes. */
  readonly podUid?: string;
  /** The container runtime's 64-hex container ID. */
  readonly containerId?: string;
}

// A pod UID is a UUID; a static pod's is the 32-hex hash of its manifest. The systemd cgroup
// driver writes the UUID's dashes as underscores, because '-' separates slice nesting levels.
const POD_UID = '[0-9a-f]{8}[-_]?[0-9a-f]{4}[-_]?[0-9a-f]{4}[-_]?[0-9a-f]{4}[-_]?[0-9a-f]{12}';
const POD_SEGMENTS = [
  new RegExp(`^pod(${POD_UID})$`), // cgroupfs driver: /kubepods/burstable/pod<uid>/<id>
  new RegExp(`^(?:[a-z]+-)*pod(${POD_UID})\\.slice$`), // systemd: kubepods-burstable-pod<uid>.slice
];
const CONTAINER_SEGMENTS = [
  /^([0-9a-f]{64})$/, // cgroupfs driver and plain Docker: /docker/<id>, /kubepods/.../<id>
  /^(?:cri-containerd|crio|docker|libpod)-([0-9a-f]{64})\.scope$/, // systemd driver
];

/**
 * The pod UID and container ID in /proc/<pid>/cgroup (cgroups(7): `hierarchy:controllers:path`
 * lines; v1 has one line per hierarchy, v2 the single `0::/path`). The path may be relative to
 * the reader's cgroup namespace (`/../../kubepods-…`); only named segments are looked at.
 * A host process yields neither. Lines that disagree are an error, not a pick: a process cannot
 * be in two pods.
 */
export function parseCgroupIds(text: string): CgroupIds {
  let found: CgroupIds = {};
  for (const line of text.split('\n')) {
    const second = line.indexOf(':', line.indexOf(':') + 1);
    if (second < 0) continue;
    const ids = idsInPath(line.slice(second + 1));
    for (const key of ['podUid', 'containerId'] as const) {
      const value = ids[key];
      if (value === undefined) continue;
      const seen = found[key];
      if (seen !== undefined && seen !== value) {
        throw new MeshidError('ATTESTATION_FAILED', `cgroup lines disagree on the ${key === 'podUid' ? 'pod UID' : 'container ID'} (${seen} and ${value})`);
      }
      found = { ...found, [key]: value };
    }
  }
  return found;
}

/**
 * The outermost pod segment, and the outermost container segment inside it. A container with a
 * writable cgroup tree can create children named like another pod's cgroups below its own; those
 * come after the real segments, so the first match is the one the runtime made. (Docker in
 * Docker nests the same way: the host's engine knows the outer container.)
 */
function idsInPath(cgroupPath: string): CgroupIds {
  const segments = cgroupPath.split('/');
  const podIndex = segments.findIndex((segment) => firstCapture(POD_SEGMENTS, segment) !== undefined);
  const pod = podIndex < 0 ? undefined : firstCapture(POD_SEGMENTS, segments[podIndex] ?? '');
  let containerId: string | undefined;
  for (const segment of segments.slice(podIndex + 1)) {
    containerId = firstCapture(CONTAINER_SEGMENTS, segment);
    if (containerId !== undefined) break;
  }
  return { ...(pod !== undefined ? { podUid: dashed(pod) } : {}), ...(containerId !== undefined ? { containerId } : {}) };
}

function firstCapture(patterns: readonly RegExp[], segment: string): string | undefined {
  for (const pattern of patterns) {
    const match = pattern.exec(segment);
    if (match?.[1] !== undefined) return match[1];
  }
  return undefined;
}

function dashed(uid: string): string {
  return uid.replace(/_/g, '-');
}
