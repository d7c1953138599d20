import { z } from 'zod';
import { KEY_TYPES } from '../../identity/key-type';
import { validateTrustDomain } from '../../identity/spiffe-id';
import { allowedPeerProblem } from '../../entries/allowed-peers';
import { JWT_ALGORITHMS } from '../../jwt/jwt-algorithm';
import { agentConfigRules, entryListRules, ParsedValues, reportTo } from './cross-field-rules';
import { count, describeValue, duration, durationMs, fileField, flag, list, mapping, oneOf, required, ruled, text, wholeNumber, type FileField } from './field-schemas';
import { adminRemoteProblem, dnsNameProblem, listenAddressProblem, selectorProblem, templateProblem, workloadSpiffeIdProblem } from './field-rules';
import { upstreamSchema } from './upstream-schema';

/**
 * The config, end to end: the YAML shape with every default (set here and nowhere else), the
 * rules relating fields, the environment overrides, and the transform into the frozen
 * AgentConfig the agent reads (its type is this schema's output). Mappings are strict: an
 * unknown key is an error (a typo such as `svid: { tll: 5m }` must not silently leave the
 * default in force). One parse reports every problem at once.
 */

/** Where the admin HTTP listens unless `admin.listen` says otherwise (the CLI's `ca` verbs call it there). */
export const DEFAULT_ADMIN_LISTEN = '127.0.0.1:8088';

/** The shortest SVID lifetime accepted: below it rotation (at half life) would be mostly overhead. */
export const MIN_SVID_TTL_MS = 10_000;

/** JWT-SVIDs shorter than this would expire in flight; JWT keys shorter than this rotate needlessly often. */
export const MIN_JWT_TTL_MS = 10_000;
export const MIN_JWT_KEY_TTL_MS = 60_000;

/** Environment variables, as in process.env. */
export type Environment = Readonly<Record<string, string | undefined>>;

export interface ConfigContext {
  /** Relative paths in the config are relative to this directory (the config file's). */
  readonly baseDir: string;
  /** The environment overrides read from (MESHID_NODE_NAME); none when absent. */
  readonly env?: Environment;
}

const entrySchema = mapping({
  spiffeId: ruled(workloadSpiffeIdProblem).optional(),
  spiffeIdTemplate: ruled(templateProblem).optional(),
  selectors: list(ruled(selectorProblem)).min(1, { error: 'needs at least one selector (an entry without selectors would match every workload)' }),
  dnsNames: list(ruled(dnsNameProblem)).default([]),
  hint: text().optional(),
  // issue 16: peers this workload accepts, pushed to Envoy as match_typed_subject_alt_names (src/entries/allowed-peers.ts).
  allowedPeers: list(ruled(allowedPeerProblem)).min(1, { error: 'lists no peer; omit allowedPeers to accept any peer of the trust bundle' }).optional(),
}).superRefine((entry, ctx) => {
  if ((entry.spiffeId === undefined) === (entry.spiffeIdTemplate === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'needs exactly one of spiffeId or spiffeIdTemplate' });
  }
});

/** The PEM files of one SPIFFE ID, for software that reads files (nginx, Java via PKCS#12). */
function fileTargetSchema(file: FileField) {
  return mapping({
    spiffeId: ruled(workloadSpiffeIdProblem),
    dnsNames: list(ruled(dnsNameProblem)).default([]),
    certFile: file(),
    keyFile: file(),
    bundleFile: file().optional(),
    /** Permission bits of keyFile (and pkcs12File). */
    keyMode: ruled((mode) => (/^0?[0-7]{3}$/.test(mode) ? undefined : `"${mode}" is not an octal file mode such as "0600"`), 'an octal mode string such as "0600"')
      .transform((mode) => parseInt(mode, 8))
      .prefault('0600'),
    owner: ruled((owner) => (/^\d+:\d+$/.test(owner) ? undefined : `"${owner}" is not "<uid>:<gid>" (numbers)`), 'a "<uid>:<gid>" string')
      .transform((owner) => {
        const [uid, gid] = owner.split(':').map(Number);
        return { uid: uid ?? 0, gid: gid ?? 0 };
      })
      .optional(),
    /** A PKCS#12 keystore of the same key and chain (Java), protected by the password in the file. */
    pkcs12File: file().optional(),
    pkcs12PasswordFile: file().optional(),
    afterWrite: text().optional(),
  });
}

function attestorsSchema(file: FileField, env: Environment) {
  return mapping({
    unix: mapping({
      hashBinaries: flag().default(true),
      maxHashBytes: bytes().default(256 * 1024 * 1024),
    }).prefault({}),
    k8s: z
      .preprocess(
        // Environment override: the DaemonSet passes the node name through the downward API
        // (deploy/kubernetes/daemonset.yaml) when the file does not say it.
        (k8s) => (isMapping(k8s) && k8s.nodeName === undefined && env.MESHID_NODE_NAME ? { ...k8s, nodeName: env.MESHID_NODE_NAME } : k8s),
        mapping({
          // https only: the service account token goes to the kubelet with every request.
          kubeletUrl: ruled(kubeletUrlProblem).default('https://127.0.0.1:10250'),
          tokenFile: file().default('/var/run/secrets/kubernetes.io/serviceaccount/token'),
          caFile: file().optional(),
          skipKubeletVerification: flag().default(false),
          nodeName: text().optional(),
        }),
      )
      .optional(),
    docker: mapping({
      socketPath: file().default('/var/run/docker.sock'),
      envAllowlist: list(text()).default([]),
    }).optional(),
  });
}

/** A positive whole number of bytes; every wrong value is named the same way. */
function bytes() {
  const wrong = (value: number): string => `must be a number of bytes, got ${describeValue(value)}`;
  return wholeNumber(1, { notNumber: required('a number of bytes'), notWhole: wrong, belowMin: wrong });
}

function kubeletUrlProblem(url: string): string | undefined {
  if (/^http:\/\//i.test(url)) return `"${url}" is not https: the kubelet is sent the service account token, so only its TLS port is used (e.g. https://127.0.0.1:10250)`;
  return /^https:\/\/[^/]+$/.test(url) ? undefined : `"${url}" is not an https://host:port URL`;
}

/** The config file's shape, with defaults, paths resolved, durations still as written. */
function documentSchema(file: FileField, env: Environment) {
  return mapping({
    trustDomain: ruled(validateTrustDomain),
    dataDir: file().default('/var/lib/meshid'),
    socketPath: file().default('/run/meshid/agent.sock'),
    upstream: upstreamSchema(file).prefault({ type: 'self-signed' }),
    svid: mapping({
      ttl: duration(MIN_SVID_TTL_MS).default('1h'),
      keyType: oneOf(KEY_TYPES).default('ec-p256'),
    }).prefault({}),
    ca: mapping({
      ttl: duration().default('24h'),
      /** How long a root rotation lets a new bundle reach Workload API clients and file readers. */
      rotationPropagationDelay: duration().default('30s'),
    }).prefault({}),
    /** JWT-SVIDs: token lifetime, signing algorithm, and how long each signing key signs. */
    jwt: mapping({
      ttl: duration(MIN_JWT_TTL_MS).default('5m'),
      algorithm: oneOf(JWT_ALGORITHMS).default('ES256'),
      keyTtl: duration(MIN_JWT_KEY_TTL_MS).default('24h'),
    }).prefault({}),
    entries: list(entrySchema).default([]),
    /** A YAML list of entries, watched; its entries apply after the inline ones. */
    entriesFile: file().optional(),
    attestors: attestorsSchema(file, env).prefault({}),
    files: list(fileTargetSchema(file)).default([]),
    /** Caps and timeouts for connections to the socket; far above real use (src/workload/connection-limits.ts). */
    connections: mapping({
      maxPerUid: count().default(1024),
      maxTotal: count().default(16384),
      prefaceTimeout: duration().default('10s'),
      idleTimeout: duration().default('5m'),
    }).prefault({}),
    admin: mapping({
      enabled: flag().default(true),
      listen: ruled(listenAddressProblem).default(DEFAULT_ADMIN_LISTEN),
      // issue 14: a non-loopback admin.listen must be confirmed (adminRemoteProblem).
      allowRemote: flag().default(false),
    })
      .superRefine((admin, ctx) => {
        const problem = admin.enabled ? adminRemoteProblem(admin.listen, admin.allowRemote) : undefined;
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, path: ['listen'] });
      })
      .prefault({}),
    logLevel: oneOf(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
  });
}

type ConfigDocument = z.output<ReturnType<typeof documentSchema>>;

/**
 * The config schema for a file in `baseDir`: validates, applies defaults and environment
 * overrides, checks the rules relating fields (even when other fields are wrong, so every
 * problem is listed), and outputs the deep-frozen AgentConfig.
 */
export function agentConfigSchema({ baseDir, env = {} }: ConfigContext) {
  return documentSchema(fileField(baseDir), env)
    .superRefine((document, ctx) => agentConfigRules(new ParsedValues(document, ctx.issues), reportTo(ctx)), { when: () => true })
    .transform(toAgentConfig);
}

/** Durations in milliseconds under `…Ms` keys, the admin address split; everything else as parsed. */
function toAgentConfig(document: ConfigDocument) {
  const { upstream, svid, ca, jwt, connections, admin } = document;
  return deepFreeze({
    ...document,
    upstream: upstream.type === 'spire' ? spireUpstream(upstream) : upstream,
    svid: { ttlMs: durationMs(svid.ttl), keyType: svid.keyType },
    ca: { ttlMs: durationMs(ca.ttl), rotationPropagationDelayMs: durationMs(ca.rotationPropagationDelay) },
    jwt: { ttlMs: durationMs(jwt.ttl), algorithm: jwt.algorithm, keyTtlMs: durationMs(jwt.keyTtl) },
    connections: { maxPerUid: connections.maxPerUid, maxTotal: connections.maxTotal, prefaceTimeoutMs: durationMs(connections.prefaceTimeout), idleTimeoutMs: durationMs(connections.idleTimeout) },
    admin: { enabled: admin.enabled, ...splitHostPort(admin.listen) },
  });
}

function spireUpstream({ syncInterval, ...upstream }: Extract<ConfigDocument['upstream'], { type: 'spire' }>) {
  return { ...upstream, syncIntervalMs: durationMs(syncInterval) };
}

/** "127.0.0.1:8088" / "[::1]:8088" (validated by the schema). */
function splitHostPort(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  return { host: listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(listen.slice(colon + 1)) };
}

/** An entries file: a YAML list of entries, with the rules of `entries` (the trust domain is the running config's). */
export function entriesFileSchema(trustDomain: string) {
  return list(entrySchema)
    .superRefine((entries, ctx) => entryListRules(new ParsedValues(entries, ctx.issues), [], trustDomain, reportTo(ctx)), { when: () => true })
    .transform(deepFreeze);
}

type DeepReadonly<T> = T extends (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value as DeepReadonly<T>;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
