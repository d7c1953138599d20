import { Option } from '@commander-js/extra-typings';
import { formatDuration, parseDuration } from '../agent/config/duration';
import { UsageError } from './usage-error';

/**
 * Options several verbs share, each with its parser, so every verb spells and checks them the
 * same way and the parsed values keep their types (a number of ms, an output format).
 */

/** `--output`: human-readable text by default, `json` for scripts. */
export type OutputFormat = 'text' | 'json';

export function outputOption(invalid = (value: string): string => `--output must be json (or text), got "${value}"`) {
  return new Option('--output <format>', 'text, or json for scripts')
    .argParser((value): OutputFormat => {
      if (value === 'text' || value === 'json') return value;
      throw new UsageError(invalid(value));
    })
    .default<OutputFormat>('text');
}

/**
 * The one duration parser of the CLI: a Go-style duration ("5s", "1m30s"), or a bare number of
 * seconds, as the verbs took before durations were accepted everywhere. Zero is refused: a call
 * that may not wait at all cannot succeed.
 */
export function parseDurationFlag(flag: string, value: string): number {
  const ms = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : parseDuration(value);
  if (ms === undefined || !(ms > 0)) throw new UsageError(`${flag} must be a duration such as 5s, got "${value}"`);
  return ms;
}

export function timeoutOption(defaultMs: number, description = 'give up after this long') {
  return new Option('--timeout <duration>', `${description} (a duration such as 5s, or seconds)`)
    .argParser((value) => parseDurationFlag('--timeout', value))
    .default(defaultMs, formatDuration(defaultMs));
}

export function socketOption() {
  return new Option('--socket <path>', 'agent socket (default: $SPIFFE_ENDPOINT_SOCKET, else ./.meshid/agent.sock)');
}
