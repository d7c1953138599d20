import { readFile } from 'node:fs/promises';

/**
 * Start time of a process in clock ticks since boot: field 22 of /proc/<pid>/stat (proc(5)).
 * Together with the pid it names one process for the lifetime of the machine, which is what the
 * PID-reuse guard compares. Returns undefined when the process no longer exists.
 */
export async function readProcessStartTime(procRoot: string, pid: number): Promise<bigint | undefined> {
  let stat: string;
  try {
    stat = await readFile(`${procRoot}/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces or ')', so fields
  // are counted from the last ')'. After it come field 3 (state) onwards: field 22 is index 19.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTime = fields[19];
  return startTime === undefined ? undefined : BigInt(startTime);
}
