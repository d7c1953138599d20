import type { KeyType } from '../../identity/key-type';
import type { JwtAlgorithm } from '../../jwt/jwt-algorithm';
import type { ConnectionLimits } from '../../serving/connection-limits';
import type { EntryRule } from '../../entries/entries';
import type { FileTargetConfig } from '../../files/file-target-config';
import type { SpireUpstreamConfig } from '../../spire/spire-upstream-config';

export type { FileTargetConfig, SpireUpstreamConfig };

/** A configured registration entry is the rule the resolver matches (exactly one of spiffeId and spiffeIdTemplate is set). */
export type EntryConfig = EntryRule;

export type UpstreamConfig =
  | { readonly type: 'self-signed' }
  | { readonly type: 'disk'; readonly certFile: string; readonly keyFile: string; readonly keyPassphraseFile?: string; readonly bundleFile?: string }
  | Pkcs11UpstreamConfig
  | SpireUpstreamConfig;

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
