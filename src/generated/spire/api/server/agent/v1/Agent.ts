// Original file: proto/spire/api/server/agent/v1/agent.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AttestAgentRequest as _spire_api_server_agent_v1_AttestAgentRequest, AttestAgentRequest__Output as _spire_api_server_agent_v1_AttestAgentRequest__Output } from '../../../../../spire/api/server/agent/v1/AttestAgentRequest';
import type { AttestAgentResponse as _spire_api_server_agent_v1_AttestAgentResponse, AttestAgentResponse__Output as _spire_api_server_agent_v1_AttestAgentResponse__Output } from '../../../../../spire/api/server/agent/v1/AttestAgentResponse';
import type { RenewAgentRequest as _spire_api_server_agent_v1_RenewAgentRequest, RenewAgentRequest__Output as _spire_api_server_agent_v1_RenewAgentRequest__Output } from '../../../../../spire/api/server/agent/v1/RenewAgentRequest';
import type { RenewAgentResponse as _spire_api_server_agent_v1_RenewAgentResponse, RenewAgentResponse__Output as _spire_api_server_agent_v1_RenewAgentResponse__Output } from '../../../../../spire/api/server/agent/v1/RenewAgentResponse';

export interface AgentClient extends grpc.Client {
  AttestAgent(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_spire_api_server_agent_v1_AttestAgentRequest, _spire_api_server_agent_v1_AttestAgentResponse__Output>;
  AttestAgent(options?: grpc.CallOptions): grpc.ClientDuplexStream<_spire_api_server_agent_v1_AttestAgentRequest, _spire_api_server_agent_v1_AttestAgentResponse__Output>;
  attestAgent(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_spire_api_server_agent_v1_AttestAgentRequest, _spire_api_server_agent_v1_AttestAgentResponse__Output>;
  attestAgent(options?: grpc.CallOptions): grpc.ClientDuplexStream<_spire_api_server_agent_v1_AttestAgentRequest, _spire_api_server_agent_v1_AttestAgentResponse__Output>;
  
  RenewAgent(argument: _spire_api_server_agent_v1_RenewAgentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_server_agent_v1_RenewAgentResponse__Output>): grpc.ClientUnaryCall;
  RenewAgent(argument: _spire_api_server_agent_v1_RenewAgentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_spire_api_server_agent_v1_RenewAgentResponse__Output>): grpc.ClientUnaryCall;
  RenewAgent(argument: _spire_api_server_agent_v1_RenewAgentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_server_agent_v1_RenewAgentResponse__Output>): grpc.ClientUnaryCall;
  RenewAgent(argument: _spire_api_server_agent_v1_RenewAgentRequest, callback: grpc.requestCallback<_spire_api_server_agent_v1_RenewAgentResponse__Output>): grpc.ClientUnaryCall;
  renewAgent(argument: _spire_api_server_agent_v1_RenewAgentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_server_agent_v1_RenewAgentResponse__Output>): grpc.ClientUnaryCall;
  renewAgent(argument: _spire_api_server_agent_v1_RenewAgentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_spire_api_server_agent_v1_RenewAgentResponse__Output>): grpc.ClientUnaryCall;
  renewAgent(argument: _spire_api_server_agent_v1_RenewAgentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_server_agent_v1_RenewAgentResponse__Output>): grpc.ClientUnaryCall;
  renewAgent(argument: _spire_api_server_agent_v1_RenewAgentRequest, callback: grpc.requestCallback<_spire_api_server_agent_v1_RenewAgentResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface AgentHandlers extends grpc.UntypedServiceImplementation {
  AttestAgent: grpc.handleBidiStreamingCall<_spire_api_server_agent_v1_AttestAgentRequest__Output, _spire_api_server_agent_v1_AttestAgentResponse>;
  
  RenewAgent: grpc.handleUnaryCall<_spire_api_server_agent_v1_RenewAgentRequest__Output, _spire_api_server_agent_v1_RenewAgentResponse>;
  
}

export interface AgentDefinition extends grpc.ServiceDefinition {
  AttestAgent: MethodDefinition<_spire_api_server_agent_v1_AttestAgentRequest, _spire_api_server_agent_v1_AttestAgentResponse, _spire_api_server_agent_v1_AttestAgentRequest__Output, _spire_api_server_agent_v1_AttestAgentResponse__Output>
  RenewAgent: MethodDefinition<_spire_api_server_agent_v1_RenewAgentRequest, _spire_api_server_agent_v1_RenewAgentResponse, _spire_api_server_agent_v1_RenewAgentRequest__Output, _spire_api_server_agent_v1_RenewAgentResponse__Output>
}
