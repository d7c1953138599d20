import type { EnvoyNode, StructValue } from './messages';

/**
 * How a trust-domain or ALL validation context is expressed for one Envoy:
 * - `spiffe`: custom_validator_config `envoy.tls.cert_validator.spiffe` with a
 *   SPIFFECertValidatorConfig (one bundle per trust domain; a peer is checked only against its
 *   own trust domain's roots);
 * - `trusted-ca`: Envoy's default X.509 validator with the roots as trusted_ca.
 */
export type ValidatorForm = 'spiffe' | 'trusted-ca';

/** Node metadata key with which one Envoy opts out of the SPIFFE validator (SPIRE's name). */
export const DISABLE_SPIFFE_VALIDATION_KEY = 'disable_spiffe_cert_validation';

/** The SPIFFE certificate validator extension first shipped in Envoy 1.18. */
const FIRST_VERSION_WITH_VALIDATOR = { major: 1, minor: 18 };

/**
 * `spiffe` unless the node opts out through metadata or does not report a build version of
 * 1.18 or later. An Envoy that does not say which version it is gets trusted_ca, which every
 * version understands; sending an extension an old Envoy lacks would make it reject the secret.
 */
export function validatorFormFor(node: EnvoyNode | null | undefined): ValidatorForm {
  if (optsOut(node?.metadata?.fields?.[DISABLE_SPIFFE_VALIDATION_KEY])) return 'trusted-ca';
  const version = node?.user_agent_build_version?.version;
  if (!version) return 'trusted-ca';
  const major = version.major_number ?? 0;
  const minor = version.minor_number ?? 0;
  const supported = major > FIRST_VERSION_WITH_VALIDATOR.major || (major === FIRST_VERSION_WITH_VALIDATOR.major && minor >= FIRST_VERSION_WITH_VALIDATOR.minor);
  return supported ? 'spiffe' : 'trusted-ca';
}

/** The first releases with CertificateValidationContext.match_typed_subject_alt_names (allowedPeers). */
const FIRST_VERSION_WITH_TYPED_SAN_MATCHERS = { major: 1, minor: 20, patch: 2 };

/**
 * Whether the node says it is an Envoy older than 1.20.2, which does not know
 * match_typed_subject_alt_names and so would ignore allowedPeers (an unknown field in a dynamic
 * resource is only counted, not rejected). An Envoy that reports no version: false (unknown).
 */
export function ignoresTypedSanMatchers(node: EnvoyNode | null | undefined): boolean {
  const version = node?.user_agent_build_version?.version;
  if (!version) return false;
  const reported = [version.major_number ?? 0, version.minor_number ?? 0, version.patch ?? 0];
  const first = [FIRST_VERSION_WITH_TYPED_SAN_MATCHERS.major, FIRST_VERSION_WITH_TYPED_SAN_MATCHERS.minor, FIRST_VERSION_WITH_TYPED_SAN_MATCHERS.patch];
  for (let index = 0; index < 3; index++) {
    if ((reported[index] ?? 0) !== (first[index] ?? 0)) return (reported[index] ?? 0) < (first[index] ?? 0);
  }
  return false;
}

/**
 * A bool true, or a string that reads as true ("true", "t", "1", any case: the spellings Go's
 * strconv.ParseBool accepts, which SPIRE uses for the same key). Other values are ignored.
 */
function optsOut(value: StructValue | undefined): boolean {
  if (!value) return false;
  if (value.kind === 'boolValue') return value.boolValue === true;
  if (value.kind === 'stringValue') return ['true', 't', '1'].includes((value.stringValue ?? '').toLowerCase());
  return false;
}
