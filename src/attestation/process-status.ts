import { readFileSync } from 'node:fs';

/** The identity lines of /proc/<pid>/status (proc(5)). */
export interface ProcessIds {
  /** `Uid:` real, effective, saved set, filesystem. */
  readonly uids: readonly number[];
  /** `Gid:` real, effective, saved set, filesystem. */
  readonly gids: readonly number[];
  readonly supplementaryGids: readonly number[];
}

/** Reads /proc/<pid>/status, or returns undefined when the process is gone or the file is unparsable. */
export function readProcessIds(procRoot: string, pid: number): ProcessIds | undefined {
  let status: string;
  try {
    // Synchronous: procfs is in memory (see process-stat.ts for the measurement).
    status = readFileSync(`${procRoot}/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  return parseProcessIds(status);
}

/** `Uid:\treal\teffective\tsaved\tfs`, likewise `Gid:`; `Groups:` lists the supplementary gids. */
export function parseProcessIds(status: string): ProcessIds | undefined {
  let uids: number[] | undefined;
  let gids: number[] | undefined;
  let supplementaryGids: number[] = [];
  for (const line of status.split('\n')) {
    if (line.startsWith('Uid:')) uids = numbers(line.slice(4));
    else if (line.startsWith('Gid:')) gids = numbers(line.slice(4));
    else if (line.startsWith('Groups:')) supplementaryGids = numbers(line.slice(7));
  }
  if (!uids || !gids || uids.length !== 4 || gids.length !== 4) return undefined;
  if ([...uids, ...gids, ...supplementaryGids].some((id) => !Number.isInteger(id) || id < 0)) return undefined;
  return { uids, gids, supplementaryGids };
}

function numbers(text: string): number[] {
  return text.trim().split(/\s+/).filter(Boolean).map(Number);
}

/** Whether real, effective, saved and filesystem ids all equal `id`. */
export function allIdsAre(ids: readonly number[], id: number): boolean {
  return ids.length === 4 && ids.every((value) => value === id);
}
