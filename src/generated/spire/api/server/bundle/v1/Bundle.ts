// Original file: proto/spire/api/server/bundle/v1/bundle.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { Bundle as _spire_api_types_Bundle, Bundle__Output as _spire_api_types_Bundle__Output } from '../../../../../spire/api/types/Bundle';
import type { GetBundleRequest as _spire_api_server_bundle_v1_GetBundleRequest, GetBundleRequest__Output as _spire_api_server_bundle_v1_GetBundleRequest__Output } from '../../../../../spire/api/server/bundle/v1/GetBundleRequest';
import type { GetFederatedBundleRequest as _spire_api_server_bundle_v1_GetFederatedBundleRequest, GetFederatedBundleRequest__Output as _spire_api_server_bundle_v1_GetFederatedBundleRequest__Output } from '../../../../../spire/api/server/bundle/v1/GetFederatedBundleRequest';

export interface BundleClient extends grpc.Client {
  GetBundle(argument: _spire_api_server_bundle_v1_GetBundleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_types_Bundle__Output>): grpc.ClientUnaryCall;
  GetBundle(argument: _spire_api_server_bundle_v1_GetBundleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_spire_api_types_Bundle__Output>): grpc.ClientUnaryCall;
  GetBundle(argument: _spire_api_server_bundle_v1_GetBundleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_types_Bundle__Output>): grpc.ClientUnaryCall;
  GetBundle(argument: _spire_api_server_bundle_v1_GetBundleRequest, callback: grpc.requestCallback<_spire_api_types_Bundle__Output>): grpc.ClientUnaryCall;
  getBundle(argument: _spire_api_server_bundle_v1_GetBundleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_types_Bundle__Output>): grpc.ClientUnaryCall;
  getBundle(argument: _spire_api_server_bundle_v1_GetBundleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_spire_api_types_Bundle__Output>): grpc.ClientUnaryCall;
  getBundle(argument: _spire_api_server_bundle_v1_GetBundleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_types_Bundle__Output>): grpc.ClientUnaryCall;
  getBundle(argument: _spire_api_server_bundle_v1_GetBundleRequest, callback: grpc.requestCallback<_spire_api_types_Bundle__Output>): grpc.ClientUnaryCall;
  
  GetFederatedBundle(argument: _spire_api_server_bundle_v1_GetFederatedBundleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_types_Bundle__Output>): grpc.ClientUnaryCall;
  GetFederatedBundle(argument: _spire_api_server_bundle_v1_GetFederatedBundleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_spire_api_types_Bundle__Output>): grpc.ClientUnaryCall;
  GetFederatedBundle(argument: _spire_api_server_bundle_v1_GetFederatedBundleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_types_Bundle__Output>): grpc.ClientUnaryCall;
  GetFederatedBundle(argument: _spire_api_server_bundle_v1_GetFederatedBundleRequest, callback: grpc.requestCallback<_spire_api_types_Bundle__Output>): grpc.ClientUnaryCall;
  getFederatedBundle(argument: _spire_api_server_bundle_v1_GetFederatedBundleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_types_Bundle__Output>): grpc.ClientUnaryCall;
  getFederatedBundle(argument: _spire_api_server_bundle_v1_GetFederatedBundleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_spire_api_types_Bundle__Output>): grpc.ClientUnaryCall;
  getFederatedBundle(argument: _spire_api_server_bundle_v1_GetFederatedBundleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_types_Bundle__Output>): grpc.ClientUnaryCall;
  getFederatedBundle(argument: _spire_api_server_bundle_v1_GetFederatedBundleRequest, callback: grpc.requestCallback<_spire_api_types_Bundle__Output>): grpc.ClientUnaryCall;
  
}

export interface BundleHandlers extends grpc.UntypedServiceImplementation {
  GetBundle: grpc.handleUnaryCall<_spire_api_server_bundle_v1_GetBundleRequest__Output, _spire_api_types_Bundle>;
  
  GetFederatedBundle: grpc.handleUnaryCall<_spire_api_server_bundle_v1_GetFederatedBundleRequest__Output, _spire_api_types_Bundle>;
  
}

export interface BundleDefinition extends grpc.ServiceDefinition {
  GetBundle: MethodDefinition<_spire_api_server_bundle_v1_GetBundleRequest, _spire_api_types_Bundle, _spire_api_server_bundle_v1_GetBundleRequest__Output, _spire_api_types_Bundle__Output>
  GetFederatedBundle: MethodDefinition<_spire_api_server_bundle_v1_GetFederatedBundleRequest, _spire_api_types_Bundle, _spire_api_server_bundle_v1_GetFederatedBundleRequest__Output, _spire_api_types_Bundle__Output>
}
