import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { AgentConfig } from './agent-config';
import { ConfigError } from './config-error';
import { crossFieldProblems } from './cross-field';
import { parseDuration } from './duration';
import { configSchema, type RawConfig } from './schema';


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
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${formatPath(issue.path) || '(top level)'}: ${issue.message}`);
  problems.push(...crossFieldProblems(raw));
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(toAgentConfig(parsed.data, options.baseDir));
}

function toAgentConfig(raw: RawConfig, baseDir: string): AgentConfig {
  const resolve = (file: string): string => path.resolve(baseDir, file);
  const upstream = raw.upstream.type === 'disk' ? { ...raw.upstream, certFile: resolve(raw.upstream.certFile), keyFile: resolve(raw.upstream.keyFile), ...(raw.upstream.keyPassphraseFile ? { keyPassphraseFile: resolve(raw.upstream.keyPassphraseFile) } : {}), ...(raw.upstream.bundleFile ? { bundleFile: resolve(raw.upstream.bundleFile) } : {}) } : raw.upstream;
  return {
    trustDomain: raw.trustDomain,
    dataDir: resolve(raw.dataDir),
    socketPath: resolve(raw.socketPath),
    upstream,
    // Both durations passed the schema's refinements, so they parse.
    svid: { ttlMs: parseDuration(raw.svid.ttl) ?? 0, keyType: raw.svid.keyType },
    ca: { ttlMs: parseDuration(raw.ca.ttl) ?? 0 },
    entries: raw.entries.map((entry) => ({ spiffeId: entry.spiffeId, selectors: entry.selectors, dnsNames: entry.dnsNames, ...(entry.hint !== undefined ? { hint: entry.hint } : {}) })),
    logLevel: raw.logLevel,
  };
}

/** `entries[0].spiffeId`, the way people write YAML paths. */
function formatPath(path: readonly PropertyKey[]): string {
  return path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('').replace(/^\./, '');
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
