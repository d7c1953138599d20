import { parseDuration } from './duration';

/**
 * Rules that relate several fields. They read the raw input defensively, so they run — and are
 * reported — even when other parts of the file failed the schema.
 */
export function crossFieldProblems(raw: unknown): string[] {
  const problems: string[] = [];
  const config = asRecord(raw);
  const trustDomain = typeof config.trustDomain === 'string' ? config.trustDomain : undefined;

  const svidTtl = asRecord(config.svid).ttl ?? '1h';
  const caTtl = asRecord(config.ca).ttl ?? '24h';
  const svidMs = typeof svidTtl === 'string' ? parseDuration(svidTtl) : undefined;
  const caMs = typeof caTtl === 'string' ? parseDuration(caTtl) : undefined;
  if (svidMs !== undefined && caMs !== undefined && caMs < 2 * svidMs) {
    // The intermediate rotates at half its life and must still outlive the leaves it signed then.
    problems.push(`ca.ttl: "${String(caTtl)}" must be at least twice svid.ttl ("${String(svidTtl)}") so the node intermediate outlives the SVIDs it signs`);
  }

  const seen = new Set<string>();
  const entries = Array.isArray(config.entries) ? config.entries : [];
  entries.forEach((entry, index) => {
    const id = asRecord(entry).spiffeId;
    if (typeof id !== 'string') return;
    const match = /^spiffe:\/\/([^/]+)/.exec(id);
    if (trustDomain && match && match[1] !== trustDomain) problems.push(`entries[${index}].spiffeId: "${id}" is not in trust domain "${trustDomain}"`);
    if (seen.has(id)) problems.push(`entries[${index}].spiffeId: "${id}" appears in more than one entry`);
    seen.add(id);
  });
  return problems;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
