/**
 * One kind of workload attestation (unix, k8s, docker). Given a pid whose credentials the kernel
 * vouched for, returns selectors of the form `<kind>:<key>:<value>`. Implementations run in
 * parallel per call; one failing must not block the others.
 */
export interface WorkloadAttestor {
  readonly name: string;
  attest(pid: number): Promise<readonly string[]>;
}
