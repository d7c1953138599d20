// Original file: proto/spire/api/server/svid/v1/svid.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BatchNewX509SVIDRequest as _spire_api_server_svid_v1_BatchNewX509SVIDRequest, BatchNewX509SVIDRequest__Output as _spire_api_server_svid_v1_BatchNewX509SVIDRequest__Output } from '../../../../../spire/api/server/svid/v1/BatchNewX509SVIDRequest';
import type { BatchNewX509SVIDResponse as _spire_api_server_svid_v1_BatchNewX509SVIDResponse, BatchNewX509SVIDResponse__Output as _spire_api_server_svid_v1_BatchNewX509SVIDResponse__Output } from '../../../../../spire/api/server/svid/v1/BatchNewX509SVIDResponse';
import type { NewDownstreamX509CARequest as _spire_api_server_svid_v1_NewDownstreamX509CARequest, NewDownstreamX509CARequest__Output as _spire_api_server_svid_v1_NewDownstreamX509CARequest__Output } from '../../../../../spire/api/server/svid/v1/NewDownstreamX509CARequest';
import type { NewDownstreamX509CAResponse as _spire_api_server_svid_v1_NewDownstreamX509CAResponse, NewDownstreamX509CAResponse__Output as _spire_api_server_svid_v1_NewDownstreamX509CAResponse__Output } from '../../../../../spire/api/server/svid/v1/NewDownstreamX509CAResponse';
import type { NewJWTSVIDRequest as _spire_api_server_svid_v1_NewJWTSVIDRequest, NewJWTSVIDRequest__Output as _spire_api_server_svid_v1_NewJWTSVIDRequest__Output } from '../../../../../spire/api/server/svid/v1/NewJWTSVIDRequest';
import type { NewJWTSVIDResponse as _spire_api_server_svid_v1_NewJWTSVIDResponse, NewJWTSVIDResponse__Output as _spire_api_server_svid_v1_NewJWTSVIDResponse__Output } from '../../../../../spire/api/server/svid/v1/NewJWTSVIDResponse';

export interface SVIDClient extends grpc.Client {
  BatchNewX509SVID(argument: _spire_api_server_svid_v1_BatchNewX509SVIDRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_server_svid_v1_BatchNewX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  BatchNewX509SVID(argument: _spire_api_server_svid_v1_BatchNewX509SVIDRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_spire_api_server_svid_v1_BatchNewX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  BatchNewX509SVID(argument: _spire_api_server_svid_v1_BatchNewX509SVIDRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_server_svid_v1_BatchNewX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  BatchNewX509SVID(argument: _spire_api_server_svid_v1_BatchNewX509SVIDRequest, callback: grpc.requestCallback<_spire_api_server_svid_v1_BatchNewX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  batchNewX509Svid(argument: _spire_api_server_svid_v1_BatchNewX509SVIDRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_server_svid_v1_BatchNewX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  batchNewX509Svid(argument: _spire_api_server_svid_v1_BatchNewX509SVIDRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_spire_api_server_svid_v1_BatchNewX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  batchNewX509Svid(argument: _spire_api_server_svid_v1_BatchNewX509SVIDRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_server_svid_v1_BatchNewX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  batchNewX509Svid(argument: _spire_api_server_svid_v1_BatchNewX509SVIDRequest, callback: grpc.requestCallback<_spire_api_server_svid_v1_BatchNewX509SVIDResponse__Output>): grpc.ClientUnaryCall;
  
  NewDownstreamX509CA(argument: _spire_api_server_svid_v1_NewDownstreamX509CARequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_server_svid_v1_NewDownstreamX509CAResponse__Output>): grpc.ClientUnaryCall;
  NewDownstreamX509CA(argument: _spire_api_server_svid_v1_NewDownstreamX509CARequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_spire_api_server_svid_v1_NewDownstreamX509CAResponse__Output>): grpc.ClientUnaryCall;
  NewDownstreamX509CA(argument: _spire_api_server_svid_v1_NewDownstreamX509CARequest, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_server_svid_v1_NewDownstreamX509CAResponse__Output>): grpc.ClientUnaryCall;
  NewDownstreamX509CA(argument: _spire_api_server_svid_v1_NewDownstreamX509CARequest, callback: grpc.requestCallback<_spire_api_server_svid_v1_NewDownstreamX509CAResponse__Output>): grpc.ClientUnaryCall;
  newDownstreamX509Ca(argument: _spire_api_server_svid_v1_NewDownstreamX509CARequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_server_svid_v1_NewDownstreamX509CAResponse__Output>): grpc.ClientUnaryCall;
  newDownstreamX509Ca(argument: _spire_api_server_svid_v1_NewDownstreamX509CARequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_spire_api_server_svid_v1_NewDownstreamX509CAResponse__Output>): grpc.ClientUnaryCall;
  newDownstreamX509Ca(argument: _spire_api_server_svid_v1_NewDownstreamX509CARequest, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_server_svid_v1_NewDownstreamX509CAResponse__Output>): grpc.ClientUnaryCall;
  newDownstreamX509Ca(argument: _spire_api_server_svid_v1_NewDownstreamX509CARequest, callback: grpc.requestCallback<_spire_api_server_svid_v1_NewDownstreamX509CAResponse__Output>): grpc.ClientUnaryCall;
  
  NewJWTSVID(argument: _spire_api_server_svid_v1_NewJWTSVIDRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_server_svid_v1_NewJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  NewJWTSVID(argument: _spire_api_server_svid_v1_NewJWTSVIDRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_spire_api_server_svid_v1_NewJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  NewJWTSVID(argument: _spire_api_server_svid_v1_NewJWTSVIDRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_server_svid_v1_NewJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  NewJWTSVID(argument: _spire_api_server_svid_v1_NewJWTSVIDRequest, callback: grpc.requestCallback<_spire_api_server_svid_v1_NewJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  newJwtsvid(argument: _spire_api_server_svid_v1_NewJWTSVIDRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_server_svid_v1_NewJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  newJwtsvid(argument: _spire_api_server_svid_v1_NewJWTSVIDRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_spire_api_server_svid_v1_NewJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  newJwtsvid(argument: _spire_api_server_svid_v1_NewJWTSVIDRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_server_svid_v1_NewJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  newJwtsvid(argument: _spire_api_server_svid_v1_NewJWTSVIDRequest, callback: grpc.requestCallback<_spire_api_server_svid_v1_NewJWTSVIDResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface SVIDHandlers extends grpc.UntypedServiceImplementation {
  BatchNewX509SVID: grpc.handleUnaryCall<_spire_api_server_svid_v1_BatchNewX509SVIDRequest__Output, _spire_api_server_svid_v1_BatchNewX509SVIDResponse>;
  
  NewDownstreamX509CA: grpc.handleUnaryCall<_spire_api_server_svid_v1_NewDownstreamX509CARequest__Output, _spire_api_server_svid_v1_NewDownstreamX509CAResponse>;
  
  NewJWTSVID: grpc.handleUnaryCall<_spire_api_server_svid_v1_NewJWTSVIDRequest__Output, _spire_api_server_svid_v1_NewJWTSVIDResponse>;
  
}

export interface SVIDDefinition extends grpc.ServiceDefinition {
  BatchNewX509SVID: MethodDefinition<_spire_api_server_svid_v1_BatchNewX509SVIDRequest, _spire_api_server_svid_v1_BatchNewX509SVIDResponse, _spire_api_server_svid_v1_BatchNewX509SVIDRequest__Output, _spire_api_server_svid_v1_BatchNewX509SVIDResponse__Output>
  NewDownstreamX509CA: MethodDefinition<_spire_api_server_svid_v1_NewDownstreamX509CARequest, _spire_api_server_svid_v1_NewDownstreamX509CAResponse, _spire_api_server_svid_v1_NewDownstreamX509CARequest__Output, _spire_api_server_svid_v1_NewDownstreamX509CAResponse__Output>
  NewJWTSVID: MethodDefinition<_spire_api_server_svid_v1_NewJWTSVIDRequest, _spire_api_server_svid_v1_NewJWTSVIDResponse, _spire_api_server_svid_v1_NewJWTSVIDRequest__Output, _spire_api_server_svid_v1_NewJWTSVIDResponse__Output>
}
