import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { isMeshidError } from '../../errors';
import { SpiffeId, validateTrustDomain } from '../../identity/spiffe-id';
import type { AgentConfig } from './agent-config';
import { ConfigError } from './config-error';
import { parseDuration } from './duration';
import { configSchema, type RawConfig } from './schema';

/** The shortest SVID lifetime accepted: below it rotation would be mostly overhead. */
export const MIN_SVID_TTL_MS = 10_000;
const KNOWN_SELECTOR_TYPES = ['unix'];

export function loadConfigFile(file: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ConfigError(document.errors.map((error) => `${file}: YAML: ${error.message.split('\n')[0]}`));
  }
  return parseConfig(document.toJS(), { baseDir: path.dirname(file) });
}

/** Validates a YAML-shaped object; reports every problem at once; returns a frozen config. */
export function parseConfig(raw: unknown, options: { baseDir: string }): AgentConfig {
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`));
  }
  const problems: string[] = [];
  const config = semanticCheck(parsed.data, options.baseDir, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

function semanticCheck(raw: RawConfig, baseDir: string, problems: string[]): AgentConfig {
  const trustDomainProblem = validateTrustDomain(raw.trustDomain);
  if (trustDomainProblem) problems.push(`trustDomain: ${trustDomainProblem}`);

  const svidTtlMs = parseDuration(raw.svid.ttl);
  if (svidTtlMs === undefined) problems.push(`svid.ttl: "${raw.svid.ttl}" is not a duration (e.g. 30s, 10m, 1h)`);
  else if (svidTtlMs < MIN_SVID_TTL_MS) problems.push(`svid.ttl: "${raw.svid.ttl}" is below the 10s minimum`);
  const caTtlMs = parseDuration(raw.ca.ttl);
  if (caTtlMs === undefined) problems.push(`ca.ttl: "${raw.ca.ttl}" is not a duration (e.g. 12h, 24h)`);
  if (svidTtlMs !== undefined && caTtlMs !== undefined && caTtlMs < 2 * svidTtlMs) {
    // The intermediate rotates at half its life and must still outlive the leaves it signed then.
    problems.push(`ca.ttl: "${raw.ca.ttl}" must be at least twice svid.ttl ("${raw.svid.ttl}") so the node intermediate outlives the SVIDs it signs`);
  }

  const seen = new Set<string>();
  raw.entries.forEach((entry, index) => {
    const where = `entries[${index}]`;
    try {
      const id = SpiffeId.parse(entry.spiffeId);
      if (!trustDomainProblem && id.trustDomain !== raw.trustDomain) problems.push(`${where}.spiffeId: "${entry.spiffeId}" is not in trust domain "${raw.trustDomain}"`);
      if (id.isRoot) problems.push(`${where}.spiffeId: "${entry.spiffeId}" needs a path (the bare trust domain ID is reserved for CAs)`);
    } catch (error) {
      problems.push(`${where}.spiffeId: ${isMeshidError(error) ? error.message : String(error)}`);
    }
    if (seen.has(entry.spiffeId)) problems.push(`${where}.spiffeId: "${entry.spiffeId}" appears in more than one entry`);
    seen.add(entry.spiffeId);
    entry.selectors.forEach((selector, selectorIndex) => {
      const [type, ...rest] = selector.split(':');
      if (rest.length < 2 || rest.some((part) => part === '')) problems.push(`${where}.selectors[${selectorIndex}]: "${selector}" is not of the form <type>:<key>:<value>`);
      else if (!KNOWN_SELECTOR_TYPES.includes(type ?? '')) problems.push(`${where}.selectors[${selectorIndex}]: unknown selector type "${type}" (known: ${KNOWN_SELECTOR_TYPES.join(', ')})`);
    });
  });

  const resolve = (file: string): string => path.resolve(baseDir, file);
  const upstream = raw.upstream.type === 'disk' ? { ...raw.upstream, certFile: resolve(raw.upstream.certFile), keyFile: resolve(raw.upstream.keyFile), ...(raw.upstream.keyPassphraseFile ? { keyPassphraseFile: resolve(raw.upstream.keyPassphraseFile) } : {}), ...(raw.upstream.bundleFile ? { bundleFile: resolve(raw.upstream.bundleFile) } : {}) } : raw.upstream;

  return {
    trustDomain: raw.trustDomain,
    dataDir: resolve(raw.dataDir),
    socketPath: resolve(raw.socketPath),
    upstream,
    svid: { ttlMs: svidTtlMs ?? 0, keyType: raw.svid.keyType },
    ca: { ttlMs: caTtlMs ?? 0 },
    entries: raw.entries.map((entry) => ({ spiffeId: entry.spiffeId, selectors: entry.selectors, dnsNames: entry.dnsNames, ...(entry.hint !== undefined ? { hint: entry.hint } : {}) })),
    logLevel: raw.logLevel,
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
