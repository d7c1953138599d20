import type { KeyType } from '../../identity/key-type';

/** The validated, frozen configuration every component reads. Durations are in milliseconds. */
export interface EntryConfig {
  readonly spiffeId: string;
  readonly selectors: readonly string[];
  readonly dnsNames: readonly string[];
  readonly hint?: string;
}

export type UpstreamConfig =
  | { readonly type: 'self-signed' }
  | { readonly type: 'disk'; readonly certFile: string; readonly keyFile: string; readonly keyPassphraseFile?: string; readonly bundleFile?: string }
  | Pkcs11UpstreamConfig;

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

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface AgentConfig {
  readonly trustDomain: string;
  readonly dataDir: string;
  readonly socketPath: string;
  readonly upstream: UpstreamConfig;
  readonly svid: { readonly ttlMs: number; readonly keyType: KeyType };
  readonly ca: { readonly ttlMs: number };
  readonly entries: readonly EntryConfig[];
  readonly logLevel: LogLevel;
}
