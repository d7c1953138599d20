import assert from 'node:assert/strict';
import { ConfigError } from '../../src/agent/config/config-error';
import type { AgentConfig } from '../../src/agent/config/agent-config';
import { parseConfig } from '../../src/agent/config/load';

/** Where the upstream tests' relative paths resolve from. */
export const CONFIG_BASE = '/etc/meshid';

/** A config with only a trust domain and this `upstream:` block, parsed as a file in CONFIG_BASE. */
export function parseUpstream(upstream: Record<string, unknown>): AgentConfig {
  return parseConfig({ trustDomain: 'example.org', upstream }, { baseDir: CONFIG_BASE });
}

/** The problems a config with this `upstream:` block is refused with (fails when it is accepted). */
export function upstreamProblems(upstream: Record<string, unknown>): string[] {
  try {
    parseUpstream(upstream);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}
