import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { BundleClient as _spire_api_server_bundle_v1_BundleClient, BundleDefinition as _spire_api_server_bundle_v1_BundleDefinition } from './spire/api/server/bundle/v1/Bundle';
import type { GetBundleRequest as _spire_api_server_bundle_v1_GetBundleRequest, GetBundleRequest__Output as _spire_api_server_bundle_v1_GetBundleRequest__Output } from './spire/api/server/bundle/v1/GetBundleRequest';
import type { GetFederatedBundleRequest as _spire_api_server_bundle_v1_GetFederatedBundleRequest, GetFederatedBundleRequest__Output as _spire_api_server_bundle_v1_GetFederatedBundleRequest__Output } from './spire/api/server/bundle/v1/GetFederatedBundleRequest';
import type { Bundle as _spire_api_types_Bundle, Bundle__Output as _spire_api_types_Bundle__Output } from './spire/api/types/Bundle';
import type { BundleMask as _spire_api_types_BundleMask, BundleMask__Output as _spire_api_types_BundleMask__Output } from './spire/api/types/BundleMask';
import type { JWTKey as _spire_api_types_JWTKey, JWTKey__Output as _spire_api_types_JWTKey__Output } from './spire/api/types/JWTKey';
import type { X509Certificate as _spire_api_types_X509Certificate, X509Certificate__Output as _spire_api_types_X509Certificate__Output } from './spire/api/types/X509Certificate';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  spire: {
    api: {
      server: {
        bundle: {
          v1: {
            Bundle: SubtypeConstructor<typeof grpc.Client, _spire_api_server_bundle_v1_BundleClient> & { service: _spire_api_server_bundle_v1_BundleDefinition }
            GetBundleRequest: MessageTypeDefinition<_spire_api_server_bundle_v1_GetBundleRequest, _spire_api_server_bundle_v1_GetBundleRequest__Output>
            GetFederatedBundleRequest: MessageTypeDefinition<_spire_api_server_bundle_v1_GetFederatedBundleRequest, _spire_api_server_bundle_v1_GetFederatedBundleRequest__Output>
          }
        }
      }
      types: {
        Bundle: MessageTypeDefinition<_spire_api_types_Bundle, _spire_api_types_Bundle__Output>
        BundleMask: MessageTypeDefinition<_spire_api_types_BundleMask, _spire_api_types_BundleMask__Output>
        JWTKey: MessageTypeDefinition<_spire_api_types_JWTKey, _spire_api_types_JWTKey__Output>
        X509Certificate: MessageTypeDefinition<_spire_api_types_X509Certificate, _spire_api_types_X509Certificate__Output>
      }
    }
  }
}

