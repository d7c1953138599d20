import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AgentClient as _spire_api_server_agent_v1_AgentClient, AgentDefinition as _spire_api_server_agent_v1_AgentDefinition } from './spire/api/server/agent/v1/Agent';
import type { AgentX509SVIDParams as _spire_api_server_agent_v1_AgentX509SVIDParams, AgentX509SVIDParams__Output as _spire_api_server_agent_v1_AgentX509SVIDParams__Output } from './spire/api/server/agent/v1/AgentX509SVIDParams';
import type { AttestAgentRequest as _spire_api_server_agent_v1_AttestAgentRequest, AttestAgentRequest__Output as _spire_api_server_agent_v1_AttestAgentRequest__Output } from './spire/api/server/agent/v1/AttestAgentRequest';
import type { AttestAgentResponse as _spire_api_server_agent_v1_AttestAgentResponse, AttestAgentResponse__Output as _spire_api_server_agent_v1_AttestAgentResponse__Output } from './spire/api/server/agent/v1/AttestAgentResponse';
import type { RenewAgentRequest as _spire_api_server_agent_v1_RenewAgentRequest, RenewAgentRequest__Output as _spire_api_server_agent_v1_RenewAgentRequest__Output } from './spire/api/server/agent/v1/RenewAgentRequest';
import type { RenewAgentResponse as _spire_api_server_agent_v1_RenewAgentResponse, RenewAgentResponse__Output as _spire_api_server_agent_v1_RenewAgentResponse__Output } from './spire/api/server/agent/v1/RenewAgentResponse';
import type { AttestationData as _spire_api_types_AttestationData, AttestationData__Output as _spire_api_types_AttestationData__Output } from './spire/api/types/AttestationData';
import type { SPIFFEID as _spire_api_types_SPIFFEID, SPIFFEID__Output as _spire_api_types_SPIFFEID__Output } from './spire/api/types/SPIFFEID';
import type { X509SVID as _spire_api_types_X509SVID, X509SVID__Output as _spire_api_types_X509SVID__Output } from './spire/api/types/X509SVID';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  spire: {
    api: {
      server: {
        agent: {
          v1: {
            Agent: SubtypeConstructor<typeof grpc.Client, _spire_api_server_agent_v1_AgentClient> & { service: _spire_api_server_agent_v1_AgentDefinition }
            AgentX509SVIDParams: MessageTypeDefinition<_spire_api_server_agent_v1_AgentX509SVIDParams, _spire_api_server_agent_v1_AgentX509SVIDParams__Output>
            AttestAgentRequest: MessageTypeDefinition<_spire_api_server_agent_v1_AttestAgentRequest, _spire_api_server_agent_v1_AttestAgentRequest__Output>
            AttestAgentResponse: MessageTypeDefinition<_spire_api_server_agent_v1_AttestAgentResponse, _spire_api_server_agent_v1_AttestAgentResponse__Output>
            RenewAgentRequest: MessageTypeDefinition<_spire_api_server_agent_v1_RenewAgentRequest, _spire_api_server_agent_v1_RenewAgentRequest__Output>
            RenewAgentResponse: MessageTypeDefinition<_spire_api_server_agent_v1_RenewAgentResponse, _spire_api_server_agent_v1_RenewAgentResponse__Output>
          }
        }
      }
      types: {
        AttestationData: MessageTypeDefinition<_spire_api_types_AttestationData, _spire_api_types_AttestationData__Output>
        SPIFFEID: MessageTypeDefinition<_spire_api_types_SPIFFEID, _spire_api_types_SPIFFEID__Output>
        X509SVID: MessageTypeDefinition<_spire_api_types_X509SVID, _spire_api_types_X509SVID__Output>
      }
    }
  }
}

