import { z } from 'zod';
import { KEY_TYPES } from '../../identity/key-type';

/**
 * The YAML shape, with every default in one place. Objects are strict: an unknown key is an
 * error (a typo like `ttl` under the wrong section must not be silently ignored).
 * Semantic rules that span fields live in validate.ts.
 */
export const DEFAULTS = {
  dataDir: '/var/lib/meshid',
  socketPath: '/run/meshid/agent.sock',
  svidTtl: '1h',
  caTtl: '24h',
  keyType: 'ec-p256',
  logLevel: 'info',
} as const;

const duration = z.string({ error: 'must be a duration such as "30s", "10m" or "1h"' });

const entrySchema = z.strictObject({
  spiffeId: z.string(),
  selectors: z.array(z.string()).min(1, { error: 'needs at least one selector' }),
  dnsNames: z.array(z.string()).default([]),
  hint: z.string().optional(),
});

const upstreamSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('self-signed') }),
  z.strictObject({
    type: z.literal('disk'),
    certFile: z.string(),
    keyFile: z.string(),
    keyPassphraseFile: z.string().optional(),
    bundleFile: z.string().optional(),
  }),
]);

export const configSchema = z.strictObject({
  trustDomain: z.string(),
  dataDir: z.string().default(DEFAULTS.dataDir),
  socketPath: z.string().default(DEFAULTS.socketPath),
  upstream: upstreamSchema.default({ type: 'self-signed' }),
  svid: z
    .strictObject({ ttl: duration.default(DEFAULTS.svidTtl), keyType: z.enum(KEY_TYPES).default(DEFAULTS.keyType) })
    .default({ ttl: DEFAULTS.svidTtl, keyType: DEFAULTS.keyType }),
  ca: z.strictObject({ ttl: duration.default(DEFAULTS.caTtl) }).default({ ttl: DEFAULTS.caTtl }),
  entries: z.array(entrySchema).default([]),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default(DEFAULTS.logLevel),
});

export type RawConfig = z.infer<typeof configSchema>;
