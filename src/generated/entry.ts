import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { EntryClient as _spire_api_server_entry_v1_EntryClient, EntryDefinition as _spire_api_server_entry_v1_EntryDefinition } from './spire/api/server/entry/v1/Entry';
import type { GetAuthorizedEntriesRequest as _spire_api_server_entry_v1_GetAuthorizedEntriesRequest, GetAuthorizedEntriesRequest__Output as _spire_api_server_entry_v1_GetAuthorizedEntriesRequest__Output } from './spire/api/server/entry/v1/GetAuthorizedEntriesRequest';
import type { GetAuthorizedEntriesResponse as _spire_api_server_entry_v1_GetAuthorizedEntriesResponse, GetAuthorizedEntriesResponse__Output as _spire_api_server_entry_v1_GetAuthorizedEntriesResponse__Output } from './spire/api/server/entry/v1/GetAuthorizedEntriesResponse';
import type { Entry as _spire_api_types_Entry, Entry__Output as _spire_api_types_Entry__Output } from './spire/api/types/Entry';
import type { EntryMask as _spire_api_types_EntryMask, EntryMask__Output as _spire_api_types_EntryMask__Output } from './spire/api/types/EntryMask';
import type { SPIFFEID as _spire_api_types_SPIFFEID, SPIFFEID__Output as _spire_api_types_SPIFFEID__Output } from './spire/api/types/SPIFFEID';
import type { Selector as _spire_api_types_Selector, Selector__Output as _spire_api_types_Selector__Output } from './spire/api/types/Selector';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  spire: {
    api: {
      server: {
        entry: {
          v1: {
            Entry: SubtypeConstructor<typeof grpc.Client, _spire_api_server_entry_v1_EntryClient> & { service: _spire_api_server_entry_v1_EntryDefinition }
            GetAuthorizedEntriesRequest: MessageTypeDefinition<_spire_api_server_entry_v1_GetAuthorizedEntriesRequest, _spire_api_server_entry_v1_GetAuthorizedEntriesRequest__Output>
            GetAuthorizedEntriesResponse: MessageTypeDefinition<_spire_api_server_entry_v1_GetAuthorizedEntriesResponse, _spire_api_server_entry_v1_GetAuthorizedEntriesResponse__Output>
          }
        }
      }
      types: {
        Entry: MessageTypeDefinition<_spire_api_types_Entry, _spire_api_types_Entry__Output>
        EntryMask: MessageTypeDefinition<_spire_api_types_EntryMask, _spire_api_types_EntryMask__Output>
        SPIFFEID: MessageTypeDefinition<_spire_api_types_SPIFFEID, _spire_api_types_SPIFFEID__Output>
        Selector: MessageTypeDefinition<_spire_api_types_Selector, _spire_api_types_Selector__Output>
      }
    }
  }
}

