import { ConfigError, parseConfig } from '../../../src/agent/config/load';

/**
 * The deploy configs use keys that land with the admin/attestor change, developed in parallel:
 * admin, attestors, files, entriesFile, and entries with spiffeIdTemplate and k8s/docker
 * selectors. Until it is merged, parseConfig rejects exactly those; the tests mark the
 * whole-config check `todo` with this reason, to be removed once the keys are in the schema.
 */
export const PENDING_KEYS = 'keys land with the admin/attestor change';

/** What today's schema says about those keys. Every other problem is a real one. */
const PENDING_PROBLEMS = [
  /^(admin|attestors|files|entriesFile): unknown key/,
  /^entries\[\d+\]\.spiffeIdTemplate: unknown key/,
  /^entries\[\d+\]\.spiffeId: is required/,
  /^entries\[\d+\]\.selectors\[\d+\]: unknown selector type "(k8s|docker)"/,
];

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

/**
 * The problems not explained by the pending keys. An entry without spiffeId is excused only
 * when it has a spiffeIdTemplate.
 */
export function problemsBeyondPendingKeys(raw: Record<string, unknown>): string[] {
  const entries = Array.isArray(raw.entries) ? (raw.entries as Record<string, unknown>[]) : [];
  return configProblems(raw).filter((problem) => {
    if (!PENDING_PROBLEMS.some((pending) => pending.test(problem))) return true;
    const missingId = /^entries\[(\d+)\]\.spiffeId: is required/.exec(problem);
    return missingId !== null && entries[Number(missingId[1])]?.spiffeIdTemplate === undefined;
  });
}
