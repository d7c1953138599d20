// Original file: proto/spire/api/server/entry/v1/entry.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { GetAuthorizedEntriesRequest as _spire_api_server_entry_v1_GetAuthorizedEntriesRequest, GetAuthorizedEntriesRequest__Output as _spire_api_server_entry_v1_GetAuthorizedEntriesRequest__Output } from '../../../../../spire/api/server/entry/v1/GetAuthorizedEntriesRequest';
import type { GetAuthorizedEntriesResponse as _spire_api_server_entry_v1_GetAuthorizedEntriesResponse, GetAuthorizedEntriesResponse__Output as _spire_api_server_entry_v1_GetAuthorizedEntriesResponse__Output } from '../../../../../spire/api/server/entry/v1/GetAuthorizedEntriesResponse';

export interface EntryClient extends grpc.Client {
  GetAuthorizedEntries(argument: _spire_api_server_entry_v1_GetAuthorizedEntriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_server_entry_v1_GetAuthorizedEntriesResponse__Output>): grpc.ClientUnaryCall;
  GetAuthorizedEntries(argument: _spire_api_server_entry_v1_GetAuthorizedEntriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_spire_api_server_entry_v1_GetAuthorizedEntriesResponse__Output>): grpc.ClientUnaryCall;
  GetAuthorizedEntries(argument: _spire_api_server_entry_v1_GetAuthorizedEntriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_server_entry_v1_GetAuthorizedEntriesResponse__Output>): grpc.ClientUnaryCall;
  GetAuthorizedEntries(argument: _spire_api_server_entry_v1_GetAuthorizedEntriesRequest, callback: grpc.requestCallback<_spire_api_server_entry_v1_GetAuthorizedEntriesResponse__Output>): grpc.ClientUnaryCall;
  getAuthorizedEntries(argument: _spire_api_server_entry_v1_GetAuthorizedEntriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_server_entry_v1_GetAuthorizedEntriesResponse__Output>): grpc.ClientUnaryCall;
  getAuthorizedEntries(argument: _spire_api_server_entry_v1_GetAuthorizedEntriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_spire_api_server_entry_v1_GetAuthorizedEntriesResponse__Output>): grpc.ClientUnaryCall;
  getAuthorizedEntries(argument: _spire_api_server_entry_v1_GetAuthorizedEntriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_spire_api_server_entry_v1_GetAuthorizedEntriesResponse__Output>): grpc.ClientUnaryCall;
  getAuthorizedEntries(argument: _spire_api_server_entry_v1_GetAuthorizedEntriesRequest, callback: grpc.requestCallback<_spire_api_server_entry_v1_GetAuthorizedEntriesResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface EntryHandlers extends grpc.UntypedServiceImplementation {
  GetAuthorizedEntries: grpc.handleUnaryCall<_spire_api_server_entry_v1_GetAuthorizedEntriesRequest__Output, _spire_api_server_entry_v1_GetAuthorizedEntriesResponse>;
  
}

export interface EntryDefinition extends grpc.ServiceDefinition {
  GetAuthorizedEntries: MethodDefinition<_spire_api_server_entry_v1_GetAuthorizedEntriesRequest, _spire_api_server_entry_v1_GetAuthorizedEntriesResponse, _spire_api_server_entry_v1_GetAuthorizedEntriesRequest__Output, _spire_api_server_entry_v1_GetAuthorizedEntriesResponse__Output>
}
