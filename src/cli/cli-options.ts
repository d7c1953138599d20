import { parseDuration } from '../agent/config/duration';

/** `--output`: human-readable text by default, `json` for scripts. */
export type OutputFormat = 'text' | 'json';

export function parseOutputFormat(value: string | boolean | undefined): OutputFormat | undefined {
  if (value === undefined || value === 'text') return 'text';
  return value === 'json' ? 'json' : undefined;
}

/** `--timeout`: a duration ("5s", "1m30s"), or a bare number of seconds. */
export function parseTimeoutMs(value: string | boolean | undefined, defaultMs: number): number | undefined {
  if (value === undefined) return defaultMs;
  if (typeof value !== 'string') return undefined;
  const ms = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : parseDuration(value);
  return ms !== undefined && ms > 0 ? ms : undefined;
}

/** The claims of a JWT, read without verifying it: for display only. */
export function unverifiedClaims(token: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as unknown;
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
