import path from 'node:path';
import { z } from 'zod';
import { formatDuration, parseDuration } from './duration';

/**
 * The zod building blocks of the config schema. Each phrases its own problems the way the
 * config reports them (`must be a string, got number 7`), so the loader prints issues as they
 * are, prefixed with their key path.
 */

/** How a wrong value is shown in a message: the value itself for scalars, its kind otherwise. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}

export const required = (kind: string, whenMissing = 'is required') => (issue: { input?: unknown }) =>
  issue.input === undefined ? whenMissing : `must be ${kind}, got ${describeValue(issue.input)}`;

export const text = (whenMissing?: string) => z.string({ error: required('a string', whenMissing) }).min(1, { error: 'must not be empty' });

/** A string checked by a rule returning the reason it is wrong. */
export const ruled = (rule: (value: string) => string | undefined, kind = 'a string') =>
  z.string({ error: required(kind) }).superRefine((value, ctx) => {
    const problem = rule(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

export const list = <T extends z.ZodType>(item: T) => z.array(item, { error: required('a list') });

export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (issue) => (issue.input === undefined ? 'is required' : `${describeValue(issue.input)} is not one of ${values.join(', ')}`) });

/** A strict mapping whose unknown-key message lists the keys it does accept. */
export const mapping = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `known keys: ${Object.keys(shape).join(', ')}` : `must be a mapping, got ${describeValue(issue.input)}`),
  });

export const flag = () => z.boolean({ error: required('true or false') });

/**
 * A whole number of at least `min`. Not zod's .int(): its issue aborts the whole parse, which
 * would skip the cross-field refinement, and every problem must be listed at once.
 */
export const wholeNumber = (min: number, messages: { notNumber: (issue: { input?: unknown }) => string; notWhole: (value: number) => string; belowMin: (value: number) => string }) =>
  z.number({ error: messages.notNumber }).superRefine((value, ctx) => {
    if (!Number.isSafeInteger(value)) ctx.addIssue({ code: 'custom', message: messages.notWhole(value) });
    if (Number.isInteger(value) && value < min) ctx.addIssue({ code: 'custom', message: messages.belowMin(value) });
  });

/** A positive whole number (a count or a cap). */
export const count = () => wholeNumber(1, { notNumber: required('a positive whole number'), notWhole: () => 'must be a whole number', belowMin: () => 'must be at least 1' });

export function durationProblem(text: string, minMs = 0): string | undefined {
  const ms = parseDuration(text);
  if (ms === undefined) return `"${text}" is not a duration (e.g. 30s, 10m, 1h30m)`;
  if (ms < minMs) return `"${text}" is below the ${formatDuration(minMs)} minimum`;
  if (ms === 0) return `"${text}" must be longer than zero`;
  return undefined;
}

/**
 * A duration as written ("90m"). It stays text until the schema's final transform turns it
 * into milliseconds, so cross-field messages can quote what the operator wrote.
 */
export const duration = (minMs = 0) => ruled((value) => durationProblem(value, minMs), 'a duration such as "30s", "10m" or "1h30m"');

/** Milliseconds of a duration the schema accepted. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`durationMs: "${text}" passed the schema but does not parse`);
  return ms;
}

/** File paths, resolved against the config file's directory. */
export const fileField = (baseDir: string) => (whenMissing?: string) => text(whenMissing).transform((file) => path.resolve(baseDir, file));
export type FileField = ReturnType<typeof fileField>;
