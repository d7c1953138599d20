import { ConfigError, parseConfig } from '../../../src/agent/config/load';

/** Every problem parseConfig reports for a YAML-shaped config; empty when it is accepted. */
export function configProblems(raw: unknown, baseDir = '/etc/meshid'): string[] {
  try {
    parseConfig(raw, { baseDir });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}
