/**
 * How this node proves its identity to spire-server at first contact (Agent/AttestAgent): the
 * attestation data it sends and, for attestors that use one, the answer to each challenge.
 * join_token is implemented (join-token-attestor.ts); k8s_psat (a projected service-account
 * token as payload, no challenge) and x509pop (a certificate as payload, then a signature over
 * the server's nonce) fit the same two steps, as in spire's pkg/agent/attestor/node.
 */
export interface NodeAttestor {
  /** The plugin name the server knows it by: `join_token`, `k8s_psat`, `x509pop`. */
  readonly type: string;
  attestationPayload(): Promise<Buffer>;
  /** Answers a server challenge; attestors without challenges throw. */
  respond?(challenge: Buffer): Promise<Buffer>;
}
