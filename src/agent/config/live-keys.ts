import type { AgentConfig } from './agent-config';

/**
 * Config keys a running agent applies without a restart. Everything else (trust domain, socket,
 * upstream, key type, TTLs, attestors, admin address) shapes state made at start; a change to
 * those is reported as needing a restart rather than half-applied.
 */
export const LIVE_KEYS = ['entries', 'files', 'logLevel'] as const;
export type LiveKey = (typeof LIVE_KEYS)[number];

export interface ConfigChanges {
  readonly live: LiveKey[];
  readonly restartRequired: string[];
}

export function configChanges(current: AgentConfig, next: AgentConfig): ConfigChanges {
  const keys = new Set([...Object.keys(current), ...Object.keys(next)] as (keyof AgentConfig)[]);
  const live: LiveKey[] = [];
  const restartRequired: string[] = [];
  for (const key of keys) {
    if (JSON.stringify(current[key]) === JSON.stringify(next[key])) continue;
    if ((LIVE_KEYS as readonly string[]).includes(key)) live.push(key as LiveKey);
    else restartRequired.push(key);
  }
  return { live, restartRequired: restartRequired.sort() };
}
