import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { core, z } from 'zod';
import type { AgentConfig, EntryConfig } from './agent-config';
import { ConfigError } from './config-error';
import { keyPath } from './cross-field-rules';
import { describeValue } from './field-schemas';
import { agentConfigSchema, entriesFileSchema, type ConfigContext, type Environment } from './schema';

export type { AgentConfig, EntryConfig } from './agent-config';
export { ConfigError } from './config-error';

/**
 * Reads and validates a YAML config file; relative paths in it are relative to its directory.
 * The environment overrides the schema declares (MESHID_NODE_NAME) are read from env, which the
 * process edge (the CLI) passes: process.env.
 */
export function loadConfigFile(file: string, env: Environment): AgentConfig {
  return parseConfig(readYamlFile(file), { baseDir: path.dirname(path.resolve(file)), env });
}

/** A YAML file as plain data; unreadable files and YAML errors are ConfigErrors naming the file. */
export function readYamlFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`cannot read ${file}: ${systemReason(error)}`]);
  }
  // uniqueKeys (the default) makes a repeated key an error rather than last-one-wins.
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ConfigError(document.errors.map((error) => `${file}: YAML: ${(error.message.split('\n')[0] ?? '').replace(/:$/, '')}`));
  }
  try {
    return document.toJS(); // may still throw, e.g. on an alias bomb (too many alias expansions)
  } catch (error) {
    throw new ConfigError([`${file}: YAML: ${error instanceof Error ? error.message : String(error)}`]);
  }
}

/**
 * An entries file (a YAML list shaped like `entries`), validated with the same rules; every
 * problem is reported, prefixed with the file name. The result is deep-frozen.
 */
export function loadEntriesFile(file: string, trustDomain: string): readonly EntryConfig[] {
  const raw = readYamlFile(file) ?? [];
  const parsed = entriesFileSchema(trustDomain).safeParse(raw);
  if (!parsed.success) throw new ConfigError(problemsOf(parsed.error, raw).map((problem) => `${file}: ${problem}`));
  return parsed.data;
}

/**
 * Validates a YAML-shaped value with the config schema (schema.ts): every problem, field or
 * cross-field, is reported at once. Relative paths are resolved against baseDir; environment
 * overrides are read from env. The result is deep-frozen.
 */
export function parseConfig(raw: unknown, context: ConfigContext): AgentConfig {
  const input = raw ?? {}; // an empty YAML document is null: all defaults, trustDomain missing
  const parsed = agentConfigSchema(context).safeParse(input);
  if (!parsed.success) throw new ConfigError(problemsOf(parsed.error, input));
  return parsed.data;
}

function problemsOf(error: z.ZodError, input: unknown): string[] {
  return error.issues.flatMap((issue) => formatIssue(issue, input));
}

/** One zod issue as human lines, each starting with the key path (`entries[0].selectors[1]: …`). */
function formatIssue(issue: core.$ZodIssue, input: unknown): string[] {
  const where = keyPath(issue.path) || '(top level)';
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${keyPath([...issue.path, key])}: unknown key (${issue.message})`);
  }
  if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options)) {
    // A discriminated union (upstream.type) whose tag matched nothing.
    const value = valueAt(input, issue.path);
    const options = issue.options.map(String).join(', ');
    return [value === undefined ? `${where}: is required (one of ${options})` : `${where}: ${describeValue(value)} is not one of ${options}`];
  }
  return [`${where}: ${issue.message}`];
}

function valueAt(input: unknown, segments: readonly PropertyKey[]): unknown {
  let current = input;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/** "ENOENT: no such file or directory", without the path Node appends (the caller names it). */
function systemReason(error: unknown): string {
  return error instanceof Error ? error.message.replace(/, \w+ '.*'$/, '') : String(error);
}
