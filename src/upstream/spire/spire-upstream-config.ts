/**
 * meshid joins a SPIRE server as its node agent. The keys are pinned by issue 11: serverAddress,
 * bootstrapBundleFile, joinTokenFile, mode.
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
