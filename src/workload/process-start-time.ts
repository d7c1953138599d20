import { readFileSync } from 'node:fs';

/**
 * Start time of a process in clock ticks since boot: field 22 of /proc/<pid>/stat (proc(5)).
 * Together with the pid it names one process for the lifetime of the machine, which is what the
 * PID-reuse guard compares. Returns undefined when the process no longer exists.
 *
 * Synchronous on purpose: procfs is generated in memory and a read takes microseconds, while
 * fs/promises costs four thread-pool round trips (open, fstat, read, close). Measured on the
 * connect → first-SVID path, the async form was the largest share of the agent's CPU per call.
 */
export function readProcessStartTime(procRoot: string, pid: number): bigint | undefined {
  let stat: string;
  try {
    stat = readFileSync(`${procRoot}/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces or ')', so fields
  // are counted from the last ')'. After it come field 3 (state) onwards: field 22 is index 19.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTime = fields[19];
  return startTime === undefined ? undefined : BigInt(startTime);
}
