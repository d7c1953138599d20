import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { BatchNewX509SVIDRequest as _spire_api_server_svid_v1_BatchNewX509SVIDRequest, BatchNewX509SVIDRequest__Output as _spire_api_server_svid_v1_BatchNewX509SVIDRequest__Output } from './spire/api/server/svid/v1/BatchNewX509SVIDRequest';
import type { BatchNewX509SVIDResponse as _spire_api_server_svid_v1_BatchNewX509SVIDResponse, BatchNewX509SVIDResponse__Output as _spire_api_server_svid_v1_BatchNewX509SVIDResponse__Output } from './spire/api/server/svid/v1/BatchNewX509SVIDResponse';
import type { NewDownstreamX509CARequest as _spire_api_server_svid_v1_NewDownstreamX509CARequest, NewDownstreamX509CARequest__Output as _spire_api_server_svid_v1_NewDownstreamX509CARequest__Output } from './spire/api/server/svid/v1/NewDownstreamX509CARequest';
import type { NewDownstreamX509CAResponse as _spire_api_server_svid_v1_NewDownstreamX509CAResponse, NewDownstreamX509CAResponse__Output as _spire_api_server_svid_v1_NewDownstreamX509CAResponse__Output } from './spire/api/server/svid/v1/NewDownstreamX509CAResponse';
import type { NewJWTSVIDRequest as _spire_api_server_svid_v1_NewJWTSVIDRequest, NewJWTSVIDRequest__Output as _spire_api_server_svid_v1_NewJWTSVIDRequest__Output } from './spire/api/server/svid/v1/NewJWTSVIDRequest';
import type { NewJWTSVIDResponse as _spire_api_server_svid_v1_NewJWTSVIDResponse, NewJWTSVIDResponse__Output as _spire_api_server_svid_v1_NewJWTSVIDResponse__Output } from './spire/api/server/svid/v1/NewJWTSVIDResponse';
import type { NewX509SVIDParams as _spire_api_server_svid_v1_NewX509SVIDParams, NewX509SVIDParams__Output as _spire_api_server_svid_v1_NewX509SVIDParams__Output } from './spire/api/server/svid/v1/NewX509SVIDParams';
import type { SVIDClient as _spire_api_server_svid_v1_SVIDClient, SVIDDefinition as _spire_api_server_svid_v1_SVIDDefinition } from './spire/api/server/svid/v1/SVID';
import type { JWTSVID as _spire_api_types_JWTSVID, JWTSVID__Output as _spire_api_types_JWTSVID__Output } from './spire/api/types/JWTSVID';
import type { PermissionDeniedDetails as _spire_api_types_PermissionDeniedDetails, PermissionDeniedDetails__Output as _spire_api_types_PermissionDeniedDetails__Output } from './spire/api/types/PermissionDeniedDetails';
import type { SPIFFEID as _spire_api_types_SPIFFEID, SPIFFEID__Output as _spire_api_types_SPIFFEID__Output } from './spire/api/types/SPIFFEID';
import type { Status as _spire_api_types_Status, Status__Output as _spire_api_types_Status__Output } from './spire/api/types/Status';
import type { X509SVID as _spire_api_types_X509SVID, X509SVID__Output as _spire_api_types_X509SVID__Output } from './spire/api/types/X509SVID';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  spire: {
    api: {
      server: {
        svid: {
          v1: {
            BatchNewX509SVIDRequest: MessageTypeDefinition<_spire_api_server_svid_v1_BatchNewX509SVIDRequest, _spire_api_server_svid_v1_BatchNewX509SVIDRequest__Output>
            BatchNewX509SVIDResponse: MessageTypeDefinition<_spire_api_server_svid_v1_BatchNewX509SVIDResponse, _spire_api_server_svid_v1_BatchNewX509SVIDResponse__Output>
            NewDownstreamX509CARequest: MessageTypeDefinition<_spire_api_server_svid_v1_NewDownstreamX509CARequest, _spire_api_server_svid_v1_NewDownstreamX509CARequest__Output>
            NewDownstreamX509CAResponse: MessageTypeDefinition<_spire_api_server_svid_v1_NewDownstreamX509CAResponse, _spire_api_server_svid_v1_NewDownstreamX509CAResponse__Output>
            NewJWTSVIDRequest: MessageTypeDefinition<_spire_api_server_svid_v1_NewJWTSVIDRequest, _spire_api_server_svid_v1_NewJWTSVIDRequest__Output>
            NewJWTSVIDResponse: MessageTypeDefinition<_spire_api_server_svid_v1_NewJWTSVIDResponse, _spire_api_server_svid_v1_NewJWTSVIDResponse__Output>
            NewX509SVIDParams: MessageTypeDefinition<_spire_api_server_svid_v1_NewX509SVIDParams, _spire_api_server_svid_v1_NewX509SVIDParams__Output>
            SVID: SubtypeConstructor<typeof grpc.Client, _spire_api_server_svid_v1_SVIDClient> & { service: _spire_api_server_svid_v1_SVIDDefinition }
          }
        }
      }
      types: {
        JWTSVID: MessageTypeDefinition<_spire_api_types_JWTSVID, _spire_api_types_JWTSVID__Output>
        PermissionDeniedDetails: MessageTypeDefinition<_spire_api_types_PermissionDeniedDetails, _spire_api_types_PermissionDeniedDetails__Output>
        SPIFFEID: MessageTypeDefinition<_spire_api_types_SPIFFEID, _spire_api_types_SPIFFEID__Output>
        Status: MessageTypeDefinition<_spire_api_types_Status, _spire_api_types_Status__Output>
        X509SVID: MessageTypeDefinition<_spire_api_types_X509SVID, _spire_api_types_X509SVID__Output>
      }
    }
  }
}

