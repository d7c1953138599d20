// Original file: proto/envoy/extensions/transport_sockets/tls/v3/secret.proto

import type { DataSource as _envoy_config_core_v3_DataSource, DataSource__Output as _envoy_config_core_v3_DataSource__Output } from '../../../../../envoy/config/core/v3/DataSource';
import type { TypedExtensionConfig as _envoy_config_core_v3_TypedExtensionConfig, TypedExtensionConfig__Output as _envoy_config_core_v3_TypedExtensionConfig__Output } from '../../../../../envoy/config/core/v3/TypedExtensionConfig';
import type { SubjectAltNameMatcher as _envoy_extensions_transport_sockets_tls_v3_SubjectAltNameMatcher, SubjectAltNameMatcher__Output as _envoy_extensions_transport_sockets_tls_v3_SubjectAltNameMatcher__Output } from '../../../../../envoy/extensions/transport_sockets/tls/v3/SubjectAltNameMatcher';

export interface CertificateValidationContext {
  'trusted_ca'?: (_envoy_config_core_v3_DataSource | null);
  'custom_validator_config'?: (_envoy_config_core_v3_TypedExtensionConfig | null);
  'match_typed_subject_alt_names'?: (_envoy_extensions_transport_sockets_tls_v3_SubjectAltNameMatcher)[];
}

export interface CertificateValidationContext__Output {
  'trusted_ca': (_envoy_config_core_v3_DataSource__Output | null);
  'custom_validator_config': (_envoy_config_core_v3_TypedExtensionConfig__Output | null);
  'match_typed_subject_alt_names': (_envoy_extensions_transport_sockets_tls_v3_SubjectAltNameMatcher__Output)[];
}
