import { z } from 'zod';
import { KEY_TYPES } from '../../identity/key-type';
import { DEFAULT_PSAT_TOKEN_FILE } from '../../spire/k8s-psat-attestor';
import { validateTrustDomain } from '../../identity/spiffe-id';
import { JWT_ALGORITHMS } from '../../jwt/jwt-algorithm';
import { formatDuration, parseDuration } from './duration';
import { adminRemoteProblem, dnsNameProblem, listenAddressProblem, selectorProblem, templateProblem, workloadSpiffeIdProblem } from './field-rules';

/**
 * The YAML shape, with every default in one place. Objects are strict: an unknown key is an
 * error (a typo such as `svid: { tll: 5m }` must not silently leave the default in force).
 * Every single-field rule is part of the schema, so one parse reports all of them at once;
 * rules relating two fields are in cross-checks.ts.
 */
export const DEFAULTS = {
  dataDir: '/var/lib/meshid',
  socketPath: '/run/meshid/agent.sock',
  svidTtl: '1h',
  caTtl: '24h',
  keyType: 'ec-p256',
  logLevel: 'info',
  adminListen: '127.0.0.1:8088',
  kubeletUrl: 'https://127.0.0.1:10250',
  serviceAccountTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
  serviceAccountCaFile: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
  dockerSocket: '/var/run/docker.sock',
  maxHashBytes: 256 * 1024 * 1024,
  jwtTtl: '5m',
  jwtAlgorithm: 'ES256',
  jwtKeyTtl: '24h',
  rotationPropagationDelay: '30s',
  // Far above real use (a few hundred workloads, one or two connections each); see connection-limits.ts.
  maxConnectionsPerUid: 1024,
  maxConnections: 16384,
  prefaceTimeout: '10s',
  idleTimeout: '5m',
} as const;

/** The shortest SVID lifetime accepted: below it rotation (at half life) would be mostly overhead. */
export const MIN_SVID_TTL_MS = 10_000;

/** JWT-SVIDs shorter than this would expire in flight; JWT keys shorter than this rotate needlessly often. */
export const MIN_JWT_TTL_MS = 10_000;
export const MIN_JWT_KEY_TTL_MS = 60_000;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

/** How a wrong value is shown in a message: the value itself for scalars, its kind otherwise. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}

const required = (kind: string, whenMissing = 'is required') => (issue: { input?: unknown }) =>
  issue.input === undefined ? whenMissing : `must be ${kind}, got ${describeValue(issue.input)}`;

const text = (whenMissing?: string) => z.string({ error: required('a string', whenMissing) }).min(1, { error: 'must not be empty' });

/** A string checked by a rule returning the reason it is wrong. */
const ruled = (rule: (value: string) => string | undefined, kind = 'a string') =>
  z.string({ error: required(kind) }).superRefine((value, ctx) => {
    const problem = rule(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

const list = <T extends z.ZodType>(item: T) => z.array(item, { error: required('a list') });

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (issue) => (issue.input === undefined ? 'is required' : `${describeValue(issue.input)} is not one of ${values.join(', ')}`) });

/** A strict mapping whose unknown-key message lists the keys it does accept. */
const mapping = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `known keys: ${Object.keys(shape).join(', ')}` : `must be a mapping, got ${describeValue(issue.input)}`),
  });

export function durationProblem(text: string, minMs = 0): string | undefined {
  const ms = parseDuration(text);
  if (ms === undefined) return `"${text}" is not a duration (e.g. 30s, 10m, 1h30m)`;
  if (ms < minMs) return `"${text}" is below the ${formatDuration(minMs)} minimum`;
  if (ms === 0) return `"${text}" must be longer than zero`;
  return undefined;
}

const entrySchema = mapping({
  spiffeId: ruled(workloadSpiffeIdProblem).optional(),
  spiffeIdTemplate: ruled(templateProblem).optional(),
  selectors: list(ruled(selectorProblem)).min(1, { error: 'needs at least one selector (an entry without selectors would match every workload)' }),
  dnsNames: list(ruled(dnsNameProblem)).default([]),
  hint: text().optional(),
}).superRefine((entry, ctx) => {
  if ((entry.spiffeId === undefined) === (entry.spiffeIdTemplate === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'needs exactly one of spiffeId or spiffeIdTemplate' });
  }
});

/** The PEM files of one SPIFFE ID, for software that reads files (nginx, Java via PKCS#12). */
const fileTargetSchema = mapping({
  spiffeId: ruled(workloadSpiffeIdProblem),
  dnsNames: list(ruled(dnsNameProblem)).default([]),
  certFile: text(),
  keyFile: text(),
  bundleFile: text().optional(),
  keyMode: ruled((mode) => (/^0?[0-7]{3}$/.test(mode) ? undefined : `"${mode}" is not an octal file mode such as "0600"`), 'an octal mode string such as "0600"').default('0600'),
  owner: ruled((owner) => (/^\d+:\d+$/.test(owner) ? undefined : `"${owner}" is not "<uid>:<gid>" (numbers)`), 'a "<uid>:<gid>" string').optional(),
  pkcs12File: text().optional(),
  pkcs12PasswordFile: text().optional(),
  afterWrite: text().optional(),
});

const attestorsSchema = mapping({
  unix: mapping({
    hashBinaries: z.boolean({ error: required('true or false') }).default(true),
    maxHashBytes: z.number({ error: required('a number of bytes') }).int().positive().default(DEFAULTS.maxHashBytes),
  }).default({ hashBinaries: true, maxHashBytes: DEFAULTS.maxHashBytes }),
  k8s: mapping({
    kubeletUrl: ruled((url) => (/^https?:\/\/[^/]+$/.test(url) ? undefined : `"${url}" is not an http(s)://host:port URL`)).default(DEFAULTS.kubeletUrl),
    tokenFile: text().default(DEFAULTS.serviceAccountTokenFile),
    caFile: text().optional(),
    skipKubeletVerification: z.boolean({ error: required('true or false') }).default(false),
    nodeName: text().optional(),
  }).optional(),
  docker: mapping({
    socketPath: text().default(DEFAULTS.dockerSocket),
    envAllowlist: list(text()).default([]),
  }).optional(),
});

const diskFile = text('is required when upstream.type is "disk"');

function pkcs11UpstreamSchema() {
  const requiredText = text('is required when upstream.type is "pkcs11"');
  return mapping({
    type: z.literal('pkcs11'),
    module: requiredText,
    tokenLabel: text().optional(),
    slot: z.number({ error: (issue) => `must be a slot ID (a number), got ${describeValue(issue.input)}` }).int({ error: 'must be a whole number' }).min(0, { error: 'must not be negative' }).optional(),
    keyLabel: requiredText,
    pinFile: requiredText,
    certFile: requiredText,
    bundleFile: text().optional(),
  }).superRefine((value, ctx) => {
    if ((value.tokenLabel === undefined) === (value.slot === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'set exactly one of tokenLabel and slot to choose the token', path: [] });
    }
  });
}
const duration = (minMs = 0) => ruled((value) => durationProblem(value, minMs), 'a duration such as "30s", "10m" or "1h30m"');

/** SPIRE modes: see SpireUpstreamConfig. */
export const SPIRE_MODES = ['downstream', 'server-signed'] as const;

/** The SPIRE agent's default sync interval (spire pkg/agent/manager: defaultSyncInterval 5s). */
export const DEFAULT_SPIRE_SYNC_INTERVAL = '5s';

const SPIRE_REQUIRED = (what: string): string => `is required when upstream.type is "spire" (${what})`;

function spireUpstreamSchema() {
  return mapping({
    type: z.literal('spire'),
    serverAddress: z.string({ error: required('a host:port string', SPIRE_REQUIRED('host:port of spire-server, e.g. 127.0.0.1:8081')) }).superRefine((value, ctx) => {
      const problem = serverAddressProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
    bootstrapBundleFile: text(SPIRE_REQUIRED('the server\'s trust bundle: `spire-server bundle show > bundle.pem`')),
    joinTokenFile: text().optional(),
    mode: oneOf(SPIRE_MODES).default('downstream'),
    syncInterval: duration(500).default(DEFAULT_SPIRE_SYNC_INTERVAL),
    // Node attestation other than a join token (the DaemonSet case): k8s_psat.
    nodeAttestor: mapping({
      type: z.literal('k8s_psat', { error: (issue) => `${describeValue(issue.input)} is not a supported node attestor (k8s_psat; join tokens use joinTokenFile)` }),
      cluster: text(),
      tokenFile: text().default(DEFAULT_PSAT_TOKEN_FILE),
    }).optional(),
  }).superRefine((value, ctx) => {
    if (value.joinTokenFile !== undefined && value.nodeAttestor !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'set joinTokenFile or nodeAttestor, not both: they are two ways to attest the node', path: [] });
    }
  });
}

/** host:port where host is a DNS name or an IP address (SPIRE servers are usually reached by name). */
function serverAddressProblem(text: string): string | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port === 0 || port > 65535) return `"${text}" is not host:port (e.g. spire-server.spire:8081 or 127.0.0.1:8081)`;
  return undefined;
}

const upstreamSchema = z.discriminatedUnion('type', [
  mapping({ type: z.literal('self-signed') }),
  mapping({ type: z.literal('disk'), certFile: diskFile, keyFile: diskFile, keyPassphraseFile: text().optional(), bundleFile: text().optional() }),
  pkcs11UpstreamSchema(),
  spireUpstreamSchema(),
]);

/** A positive whole number (a count or a cap). */
const count = () => z.number({ error: required('a positive whole number') }).int({ error: 'must be a whole number' }).positive({ error: 'must be at least 1' });

/** Fields cross-checks.ts re-validates on their own when the whole document is invalid. */
export const fieldSchemas = {
  trustDomain: ruled(validateTrustDomain),
  socketPath: text().default(DEFAULTS.socketPath),
  svidTtl: duration(MIN_SVID_TTL_MS).default(DEFAULTS.svidTtl),
  caTtl: duration().default(DEFAULTS.caTtl),
  entry: entrySchema,
  fileTarget: fileTargetSchema,
};

export const configSchema = mapping({
  trustDomain: fieldSchemas.trustDomain,
  dataDir: text().default(DEFAULTS.dataDir),
  socketPath: fieldSchemas.socketPath,
  upstream: upstreamSchema.default({ type: 'self-signed' }),
  svid: mapping({
    ttl: fieldSchemas.svidTtl,
    keyType: oneOf(KEY_TYPES).default(DEFAULTS.keyType),
  }).default({ ttl: DEFAULTS.svidTtl, keyType: DEFAULTS.keyType }),
  ca: mapping({ ttl: fieldSchemas.caTtl, rotationPropagationDelay: duration().default(DEFAULTS.rotationPropagationDelay) }).default({ ttl: DEFAULTS.caTtl, rotationPropagationDelay: DEFAULTS.rotationPropagationDelay }),
  jwt: mapping({
    ttl: duration(MIN_JWT_TTL_MS).default(DEFAULTS.jwtTtl),
    algorithm: oneOf(JWT_ALGORITHMS).default(DEFAULTS.jwtAlgorithm),
    keyTtl: duration(MIN_JWT_KEY_TTL_MS).default(DEFAULTS.jwtKeyTtl),
  }).default({ ttl: DEFAULTS.jwtTtl, algorithm: DEFAULTS.jwtAlgorithm, keyTtl: DEFAULTS.jwtKeyTtl }),
  entries: list(entrySchema).default([]),
  entriesFile: text().optional(),
  attestors: attestorsSchema.default({ unix: { hashBinaries: true, maxHashBytes: DEFAULTS.maxHashBytes } }),
  files: list(fileTargetSchema).default([]),
  connections: mapping({
    maxPerUid: count().default(DEFAULTS.maxConnectionsPerUid),
    maxTotal: count().default(DEFAULTS.maxConnections),
    prefaceTimeout: duration().default(DEFAULTS.prefaceTimeout),
    idleTimeout: duration().default(DEFAULTS.idleTimeout),
  }).default({ maxPerUid: DEFAULTS.maxConnectionsPerUid, maxTotal: DEFAULTS.maxConnections, prefaceTimeout: DEFAULTS.prefaceTimeout, idleTimeout: DEFAULTS.idleTimeout }),
  admin: mapping({
    enabled: z.boolean({ error: required('true or false') }).default(true),
    listen: ruled(listenAddressProblem).default(DEFAULTS.adminListen),
    // issue 14: a non-loopback admin.listen must be confirmed (adminRemoteProblem).
    allowRemote: z.boolean({ error: required('true or false') }).default(false),
  })
    .superRefine((admin, ctx) => {
      const problem = admin.enabled ? adminRemoteProblem(admin.listen, admin.allowRemote) : undefined;
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, path: ['listen'] });
    })
    .default({ enabled: true, listen: DEFAULTS.adminListen, allowRemote: false }),
  logLevel: oneOf(LOG_LEVELS).default(DEFAULTS.logLevel),
});

/** An entries file is a YAML list of entries, validated like `entries`. */
export const entriesFileSchema = list(entrySchema);

export type RawConfig = z.infer<typeof configSchema>;
