import type { ExecutableIdentity } from '../connector-snapshot';

/**
 * The process an attestor describes, as the kernel recorded it when it connected: ids from
 * SO_PEERCRED, supplementary groups and the executable pinned at accept. Attestors describe this
 * record, never the process's later state (an exec or setuid after connect must not change what
 * a connection is entitled to; connector-binding.ts refuses such callers outright).
 */
export interface AttestationSubject {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
  readonly supplementaryGids: readonly number[];
  /** Undefined when the agent could not read /proc/<pid>/exe at accept. */
  readonly executable: ExecutableIdentity | undefined;
}

/**
 * One kind of workload attestation (unix, k8s, docker). Given a subject whose credentials the
 * kernel vouched for, returns selectors of the form `<kind>:<key>:<value>`. Implementations run in
 * parallel per call; one failing must not block the others.
 */
export interface WorkloadAttestor {
  readonly name: string;
  attest(subject: AttestationSubject): Promise<readonly string[]>;
}
