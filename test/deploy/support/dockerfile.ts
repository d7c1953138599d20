/**
 * Just enough of the Dockerfile and .dockerignore formats to check a build without a Docker
 * engine: instructions with their stage, `\` continuations joined, comments dropped; exec-form
 * (JSON) arguments decoded; .dockerignore patterns with `*`, `?`, `**` and `!` exceptions.
 */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  /** Index of the FROM stage this instruction belongs to (0 for the first FROM). */
  readonly stage: number;
}

export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let stage = -1;
  let pending = '';
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (pending !== '' && line.startsWith('#')) continue; // comments inside a continuation are skipped
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const whole = `${pending}${line}`.trim();
    pending = '';
    const match = /^(\S+)\s*(.*)$/.exec(whole);
    if (!match) continue;
    const keyword = (match[1] ?? '').toUpperCase();
    if (keyword === 'FROM') stage++;
    instructions.push({ keyword, args: match[2] ?? '', stage });
  }
  return instructions;
}

/** `COPY [--from=x] [--chown=..] src... dest` split into its parts (shell form only). */
export function copyParts(args: string): { from: string | undefined; sources: string[]; destination: string } {
  const words = args.split(/\s+/).filter(Boolean);
  const flags = words.filter((word) => word.startsWith('--'));
  const paths = words.filter((word) => !word.startsWith('--'));
  const from = flags.find((flag) => flag.startsWith('--from='))?.slice('--from='.length);
  return { from, sources: paths.slice(0, -1), destination: paths[paths.length - 1] ?? '' };
}

/** Exec-form arguments (`["node", "main.js"]`); undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  const trimmed = args.trim();
  if (!trimmed.startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(trimmed);
  return Array.isArray(parsed) && parsed.every((item) => typeof item === 'string') ? parsed : undefined;
}

/** A HEALTHCHECK's command after its --options. */
export function healthcheckCommand(args: string): string[] | undefined {
  const start = args.indexOf('CMD');
  return start < 0 ? undefined : execForm(args.slice(start + 'CMD'.length));
}

/**
 * Whether the build context excludes `relative` (a path from the context root, `/`-separated).
 * The last matching pattern wins; a pattern excludes a directory's whole contents.
 */
export function dockerignoreExcludes(patterns: readonly string[], relative: string): boolean {
  let excluded = false;
  const segments = relative.split('/');
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    const regex = globToRegExp(pattern);
    // Matching a parent directory excludes everything below it.
    const matches = segments.some((_, index) => regex.test(segments.slice(0, index + 1).join('/')));
    if (matches) excluded = !negated;
  }
  return excluded;
}

export function dockerignorePatterns(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index] ?? '';
    if (char === '*' && pattern[index + 1] === '*') {
      // `**/` is any number of directories, none included; a trailing `**` is anything.
      const slash = pattern[index + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      index += slash ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
