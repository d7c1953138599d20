import { MeshidError } from '../../common/errors';

/** Every problem found in a configuration, one line each; the CLI prints them and exits 2. */
export class ConfigError extends MeshidError {
  readonly problems: string[];

  constructor(problems: readonly string[]) {
    super('INVALID_CONFIG', problems.map((problem) => `  - ${problem}`).join('\n'));
    this.name = 'ConfigError';
    this.problems = [...problems];
  }
}
