import { existsSync } from 'node:fs';
import path from 'node:path';

/** The CLI entry of a build (its dist/ directory): src/cli/main.js, or src/agent/cli/main.js in builds from before the CLI moved. */
export function mainOf(dist: string): string {
  const current = path.join(dist, 'src', 'cli', 'main.js');
  return existsSync(current) ? current : path.join(dist, 'src', 'agent', 'cli', 'main.js');
}
