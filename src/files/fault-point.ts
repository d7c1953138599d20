/**
 * Named fault points for crash tests of the files targets: with `MESHID_FAULT_POINT=<name>` in
 * the environment, the process kills itself with SIGKILL when a write reaches that point, as an
 * OOM kill or power loss would. Local to files/ (no shared fault-injection module exists yet);
 * a no-op unless the variable names this point. Read at each call, so a test can set it between
 * two writes of one process.
 */
export type FilesFaultPoint =
  /** The new timestamped directory holds some of the files, not all. */
  | 'files.partial-set'
  /** Every file of the new set is written and synced; `..data` still names the old set. */
  | 'files.staged'
  /** The temporary `..data_tmp` link names the new set; `..data` not yet renamed over. */
  | 'files.link-staged'
  /** `..data` names the new set; the old timestamped directory is not yet removed. */
  | 'files.swapped';

export function faultPoint(name: FilesFaultPoint): void {
  if (process.env.MESHID_FAULT_POINT === name) process.kill(process.pid, 'SIGKILL');
}
