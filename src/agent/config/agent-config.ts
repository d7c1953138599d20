import type { KeyType } from '../../identity/key-type';
import type { JwtAlgorithm } from '../../jwt/jwt-algorithm';
import type { ConnectionLimits } from '../../serving/connection-limits';
import type { EntryRule } from '../../entries/entries';

/** A configured registration entry is the rule the resolver matches (exactly one of spiffeId and spiffeIdTemplate is set). */
export type EntryConfig = EntryRule;

export type UpstreamConfig =
  | { readonly type: 'self-signed' }
  | { readonly type: 'disk'; readonly certFile: string; readonly keyFile: string; readonly keyPassphraseFile?: string; readonly bundleFile?: string }
  | Pkcs11UpstreamConfig
  | SpireUpstreamConfig;

/**
 * meshid joins a SPIRE server as its node agent (src/spire/). The keys are pinned by
 * issue 11: serverAddress, bootstrapBundleFile, joinTokenFile, mode.
 */
export interface SpireUpstreamConfig {
  readonly type: 'spire';
  /** host:port of spire-server's agent API (its `bind_address:bind_port`). */
  readonly serverAddress: string;
  /** The server's trust bundle (PEM), trusted only until the first bundle comes from the server. */
  readonly bootstrapBundleFile: string;
  /** A join token, used once: later starts reuse the agent SVID kept in dataDir. */
  readonly joinTokenFile?: string;
  /** downstream: the node holds an intermediate from NewDownstreamX509CA; server-signed: each SVID is signed by the server. */
  readonly mode: 'downstream' | 'server-signed';
  /** How often the authorized entries and the bundle are fetched (SPIRE agent's default sync interval is 5 s). */
  readonly syncIntervalMs: number;
  /** Node attestation other than a join token. */
  readonly nodeAttestor?: { readonly type: 'k8s_psat'; readonly cluster: string; readonly tokenFile: string };
}

/** The CA key is in an HSM reached through a PKCS#11 module; exactly one of tokenLabel and slot (a slot ID). */
export interface Pkcs11UpstreamConfig {
  readonly type: 'pkcs11';
  readonly module: string;
  readonly tokenLabel?: string;
  readonly slot?: number;
  readonly keyLabel: string;
  readonly pinFile: string;
  readonly certFile: string;
  readonly bundleFile?: string;
}

export interface FileTargetConfig {
  readonly spiffeId: string;
  readonly dnsNames: readonly string[];
  readonly certFile: string;
  readonly keyFile: string;
  readonly bundleFile?: string;
  /** Permission bits of keyFile (and pkcs12File), e.g. 0o600. */
  readonly keyMode: number;
  readonly owner?: { readonly uid: number; readonly gid: number };
  /** A PKCS#12 keystore of the same key and chain (Java), protected by the password in the file. */
  readonly pkcs12File?: string;
  readonly pkcs12PasswordFile?: string;
  readonly afterWrite?: string;
}

export interface AttestorsConfig {
  readonly unix: { readonly hashBinaries: boolean; readonly maxHashBytes: number };
  readonly k8s?: {
    readonly kubeletUrl: string;
    readonly tokenFile: string;
    readonly caFile?: string;
    readonly skipKubeletVerification: boolean;
    readonly nodeName?: string;
  };
  readonly docker?: { readonly socketPath: string; readonly envAllowlist: readonly string[] };
}

export interface AdminConfig {
  readonly enabled: boolean;
  readonly host: string;
  readonly port: number;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** The validated, frozen configuration every component reads. Durations are in milliseconds. */
export interface AgentConfig {
  readonly trustDomain: string;
  readonly dataDir: string;
  readonly socketPath: string;
  readonly upstream: UpstreamConfig;
  readonly svid: { readonly ttlMs: number; readonly keyType: KeyType };
  /** rotationPropagationDelayMs: how long a root rotation lets a new bundle reach Workload API clients and file readers. */
  readonly ca: { readonly ttlMs: number; readonly rotationPropagationDelayMs: number };
  /** JWT-SVIDs: token lifetime, signing algorithm, and how long each signing key signs. */
  readonly jwt: { readonly ttlMs: number; readonly algorithm: JwtAlgorithm; readonly keyTtlMs: number };
  readonly entries: readonly EntryConfig[];
  /** A YAML list of entries, watched; its entries apply after the inline ones. */
  readonly entriesFile?: string;
  readonly attestors: AttestorsConfig;
  readonly files: readonly FileTargetConfig[];
  readonly admin: AdminConfig;
  /** Caps and timeouts for connections to the socket. */
  readonly connections: ConnectionLimits;
  readonly logLevel: LogLevel;
}
