/** Exit code of a usage error (bad options, an input file that cannot be read), as before commander. */
export const EXIT_USAGE = 2;

/**
 * A usage problem found by an option parser or a command: main prints it as "meshid: <message>"
 * and exits 2. Thrown, not returned, so commander stops parsing at the first one.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Sets the exit code of a verb that has finished; `run` never calls it and keeps the process. */
export function exitWith(code: number): void {
  process.exitCode = code;
}
