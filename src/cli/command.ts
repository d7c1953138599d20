import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A CLI verb. run() resolves to the exit code, or -1 when the process keeps running. */
export interface Command {
  run(args: string[]): Promise<number>;
}

export const EXIT_USAGE = 2;

export function usageError(message: string): number {
  console.error(`meshid: ${message}`);
  return EXIT_USAGE;
}

/** parseArgs with --help handled and unknown options reported as usage errors. */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
  help: string,
): { values: Record<string, string | boolean | undefined>; exit?: number } {
  try {
    const parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
    const values = parsed.values as Record<string, string | boolean | undefined>;
    if (values.help === true) {
      console.log(help);
      return { values, exit: 0 };
    }
    return { values };
  } catch (error) {
    return { values: {}, exit: usageError(`${(error as Error).message}\n\n${help}`) };
  }
}
