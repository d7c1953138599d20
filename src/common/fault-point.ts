import { writeSync } from 'node:fs';

/**
 * Named fault-injection points between persisted steps, for crash-safety tests: with
 * `MESHID_FAULT_POINT=<name>` (or `<name>@<n>`: the n-th time it is reached, from 1) the process
 * kills itself with SIGKILL the moment it reaches that step, exactly as a `kill -9` or an OOM kill
 * would, with nothing flushed or unwound. Without the variable every point is a no-op (the
 * variable is read once, at load). Each point is named after the last step done before it.
 */
export const FAULT_POINTS = [
  // First start of the self-signed upstream (src/upstream/self-signed-upstream.ts).
  'first-start:staged',
  'first-start:key-written',
  'first-start:cert-written',
  // Self-signed root rotation (src/upstream/self-signed-rotation.ts).
  'rotation:next-key-written',
  'rotation:next-cert-written',
  'rotation:retired-written',
  'rotation:key-renamed',
  'rotation:cert-renamed',
  'rotation:retired-removed',
  // JWT signing keys (src/jwt/jwt-key-store.ts).
  'jwt-keys:written',
] as const;

export type FaultPointName = (typeof FAULT_POINTS)[number];

export const FAULT_POINT_ENV = 'MESHID_FAULT_POINT';

const armed = parse(process.env[FAULT_POINT_ENV]);
const reached = new Map<string, number>();

/** Kills the process here if MESHID_FAULT_POINT names this point (and this is the n-th time). */
export function faultPoint(name: FaultPointName): void {
  if (armed === undefined || armed.name !== name) return;
  const count = (reached.get(name) ?? 0) + 1;
  reached.set(name, count);
  if (count !== armed.occurrence) return;
  // Synchronous, so a test can tell this kill from any other; then no more JavaScript runs.
  writeSync(2, `meshid: fault point ${name} reached; killing the process (${FAULT_POINT_ENV})\n`);
  process.kill(process.pid, 'SIGKILL');
}

function parse(value: string | undefined): { name: string; occurrence: number } | undefined {
  if (value === undefined || value === '') return undefined;
  const match = /^(.+?)(?:@(\d+))?$/.exec(value);
  if (!match?.[1]) return undefined;
  return { name: match[1], occurrence: match[2] === undefined ? 1 : Number(match[2]) };
}
