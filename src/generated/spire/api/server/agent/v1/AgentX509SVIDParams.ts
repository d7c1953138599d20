// Original file: proto/spire/api/server/agent/v1/agent.proto


export interface AgentX509SVIDParams {
  'csr'?: (Buffer | Uint8Array | string);
}

export interface AgentX509SVIDParams__Output {
  'csr': (Buffer);
}
