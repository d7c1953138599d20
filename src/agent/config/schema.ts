import { z } from 'zod';
import { isMeshidError } from '../../errors';
import { KEY_TYPES } from '../../identity/key-type';
import { SpiffeId, validateTrustDomain } from '../../identity/spiffe-id';
import { parseDuration } from './duration';

/**
 * The YAML shape, with every default in one place. Objects are strict: an unknown key is an
 * error (a typo like `ttl` under the wrong section must not be silently ignored).
 * Rules about one field are refinements here, so they are reported alongside type errors;
 * rules spanning fields are in cross-field.ts.
 */
export const DEFAULTS = {
  dataDir: '/var/lib/meshid',
  socketPath: '/run/meshid/agent.sock',
  svidTtl: '1h',
  caTtl: '24h',
  keyType: 'ec-p256',
  logLevel: 'info',
} as const;

/** The shortest SVID lifetime accepted: below it rotation would be mostly overhead. */
export const MIN_SVID_TTL_MS = 10_000;
export const KNOWN_SELECTOR_TYPES = ['unix'];

const duration = (minimumMs = 1) =>
  z.string({ error: 'must be a duration such as "30s", "10m" or "1h"' }).superRefine((text, context) => {
    const ms = parseDuration(text);
    if (ms === undefined) context.addIssue({ code: 'custom', message: `"${text}" is not a duration (e.g. 30s, 10m, 1h)` });
    else if (ms < minimumMs) context.addIssue({ code: 'custom', message: `"${text}" is below the ${minimumMs / 1000}s minimum` });
  });

const spiffeId = z.string().superRefine((text, context) => {
  try {
    if (SpiffeId.parse(text).isRoot) context.addIssue({ code: 'custom', message: `"${text}" needs a path (the bare trust domain ID is reserved for CAs)` });
  } catch (error) {
    context.addIssue({ code: 'custom', message: isMeshidError(error) ? error.message : String(error) });
  }
});

const selector = z.string().superRefine((text, context) => {
  const [type, ...rest] = text.split(':');
  if (rest.length < 2 || rest.some((part) => part === '')) context.addIssue({ code: 'custom', message: `"${text}" is not of the form <type>:<key>:<value>` });
  else if (!KNOWN_SELECTOR_TYPES.includes(type ?? '')) context.addIssue({ code: 'custom', message: `unknown selector type "${type}" (known: ${KNOWN_SELECTOR_TYPES.join(', ')})` });
});

const entrySchema = z.strictObject({
  spiffeId,
  selectors: z.array(selector).min(1, { error: 'needs at least one selector' }),
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
  trustDomain: z.string().superRefine((name, context) => {
    const problem = validateTrustDomain(name);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  }),
  dataDir: z.string().default(DEFAULTS.dataDir),
  socketPath: z.string().default(DEFAULTS.socketPath),
  upstream: upstreamSchema.default({ type: 'self-signed' }),
  svid: z
    .strictObject({ ttl: duration(MIN_SVID_TTL_MS).default(DEFAULTS.svidTtl), keyType: z.enum(KEY_TYPES).default(DEFAULTS.keyType) })
    .default({ ttl: DEFAULTS.svidTtl, keyType: DEFAULTS.keyType }),
  ca: z.strictObject({ ttl: duration().default(DEFAULTS.caTtl) }).default({ ttl: DEFAULTS.caTtl }),
  entries: z.array(entrySchema).default([]),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default(DEFAULTS.logLevel),
});

export type RawConfig = z.infer<typeof configSchema>;
