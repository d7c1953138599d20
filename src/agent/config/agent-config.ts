import type { z } from 'zod';
import type { agentConfigSchema } from './schema';

/**
 * The validated, deep-frozen configuration the agent reads: the output of the config schema
 * (schema.ts), so it cannot drift from it. Durations are in milliseconds, paths are absolute.
 * Lower layers never take it whole: each declares the options it needs and src/agent passes
 * the slice.
 */
export type AgentConfig = z.output<ReturnType<typeof agentConfigSchema>>;

/** A configured registration entry: the rule the resolver matches (exactly one of spiffeId and spiffeIdTemplate is set). */
export type EntryConfig = AgentConfig['entries'][number];
