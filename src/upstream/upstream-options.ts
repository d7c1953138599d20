import type { DiskUpstreamConfig } from './disk-upstream';
import type { Pkcs11UpstreamConfig } from './pkcs11-upstream';
import type { SpireUpstreamConfig } from './spire/spire-upstream-config';

/** The one upstream an agent has (config key `upstream`); paths are absolute. */
export type UpstreamChoice =
  | { readonly type: 'self-signed' }
  | ({ readonly type: 'disk' } & DiskUpstreamConfig)
  | ({ readonly type: 'pkcs11' } & Pkcs11UpstreamConfig)
  | SpireUpstreamConfig;

/** What loading an upstream, or preparing its successor, needs to know. */
export interface UpstreamOptions {
  readonly upstream: UpstreamChoice;
  readonly trustDomain: string;
  /** Where the self-signed root (and a root rotation's state) is kept. */
  readonly dataDir: string;
  /** The Workload API socket: when it lives inside dataDir, dataDir is created 0711 (dataDirMode). */
  readonly socketPath: string;
}
