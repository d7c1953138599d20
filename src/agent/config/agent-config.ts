import type { KeyType } from '../../identity/key-type';
import type { JwtAlgorithm } from '../../jwt/jwt-algorithm';

/** The validated, frozen configuration every component reads. Durations are in milliseconds. */
export interface EntryConfig {
  readonly spiffeId: string;
  readonly selectors: readonly string[];
  readonly dnsNames: readonly string[];
  readonly hint?: string;
}

export type UpstreamConfig =
  | { readonly type: 'self-signed' }
  | { readonly type: 'disk'; readonly certFile: string; readonly keyFile: string; readonly keyPassphraseFile?: string; readonly bundleFile?: string };

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface AgentConfig {
  readonly trustDomain: string;
  readonly dataDir: string;
  readonly socketPath: string;
  readonly upstream: UpstreamConfig;
  readonly svid: { readonly ttlMs: number; readonly keyType: KeyType };
  readonly ca: { readonly ttlMs: number };
  /** JWT-SVIDs: token lifetime, signing algorithm, and how long each signing key signs. */
  readonly jwt: { readonly ttlMs: number; readonly algorithm: JwtAlgorithm; readonly keyTtlMs: number };
  readonly entries: readonly EntryConfig[];
  readonly logLevel: LogLevel;
}
