import path from 'node:path';
import protobuf from 'protobufjs';
import type { Secret } from '../generated/envoy/extensions/transport_sockets/tls/v3/Secret';
import type { SPIFFECertValidatorConfig } from '../generated/envoy/extensions/transport_sockets/tls/v3/SPIFFECertValidatorConfig';
import type { SubjectAltNameMatcher } from '../generated/envoy/extensions/transport_sockets/tls/v3/SubjectAltNameMatcher';
import { peerMatchersKey, type PeerMatcher } from '../entries/allowed-peers';
import { derToPem } from '../identity/pem';
import { PROTO_DIR, SECRET_PROTO } from '../common/proto-files';
import type { TrustBundle, X509Svid } from '../rotation/x509-svid';
import { SECRET_TYPE_URL, type AnyMessage } from './messages';
import type { ValidatorForm } from './validator-choice';

const SPIFFE_VALIDATOR_PROTO = 'envoy/extensions/transport_sockets/tls/v3/tls_spiffe_validator_config.proto';
const SPIFFE_VALIDATOR_TYPE = 'envoy.extensions.transport_sockets.tls.v3.SPIFFECertValidatorConfig';
/** The extension name Envoy registers the SPIFFE certificate validator under. */
export const SPIFFE_VALIDATOR_NAME = 'envoy.tls.cert_validator.spiffe';

// Secrets travel inside google.protobuf.Any, so they are encoded here with protobufjs rather than
// by grpc-js's per-method serializers.
function loadTypes(): { secret: protobuf.Type; spiffeValidator: protobuf.Type } {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
  root.loadSync([SECRET_PROTO, SPIFFE_VALIDATOR_PROTO], { keepCase: true });
  return { secret: root.lookupType('envoy.extensions.transport_sockets.tls.v3.Secret'), spiffeValidator: root.lookupType(SPIFFE_VALIDATOR_TYPE) };
}
const Types = loadTypes();

// Many Envoys on a node share an identity and every stream re-sends on rotation: encode each
// (certificate, name, form) once. Keys are the immutable snapshot objects, so entries die with them.
const svidCache = new WeakMap<X509Svid, Map<string, AnyMessage>>();
const bundleCache = new WeakMap<TrustBundle, Map<string, AnyMessage>>();

/** tls_certificate: PEM chain (leaf first) and PEM PKCS#8 key, inline (never file paths). */
export function tlsCertificateSecret(name: string, svid: X509Svid): AnyMessage {
  return cached(svidCache, svid, name, () => ({
    name,
    tls_certificate: {
      certificate_chain: { inline_bytes: Buffer.from(svid.chainDer.map((der) => derToPem('CERTIFICATE', der)).join('')) },
      private_key: { inline_bytes: Buffer.from(derToPem('PRIVATE KEY', svid.privateKeyPkcs8Der)) },
    },
  }));
}

/** Another trust domain's roots, carried beside (or, for `spiffe://<other td>`, instead of) this one's. */
export interface FederatedTrustDomain {
  readonly trustDomain: string;
  readonly rootsDer: readonly Buffer[];
}

/**
 * A validation context for the trust bundle, in the given form: trusted_ca (PEM roots, of every
 * trust domain carried), or the SPIFFE validator with one TrustDomain entry per bundle: this trust
 * domain's (unless `bundle` is undefined: a `spiffe://<other td>` secret) and each federated one.
 * `variant` tells cached encodings apart when the federated bundles change.
 */
export function validationContextSecret(
  name: string,
  bundle: TrustBundle | undefined,
  form: ValidatorForm,
  federated: readonly FederatedTrustDomain[] = [],
  variant = '',
  peers: readonly PeerMatcher[] = [],
): AnyMessage {
  const domains = [...(bundle ? [{ trustDomain: bundle.trustDomain, rootsDer: bundle.rootsDer }] : []), ...federated];
  // Envoy's default validator and the SPIFFE validator both apply these (the latter to URI SANs only).
  const sanMatchers = peers.length > 0 ? { match_typed_subject_alt_names: peers.map(uriSanMatcher) } : {};
  const build = (): Secret => {
    if (form === 'trusted-ca') return { name, validation_context: { trusted_ca: { inline_bytes: rootsPem(domains.flatMap((domain) => domain.rootsDer)) }, ...sanMatchers } };
    const validatorConfig = Types.spiffeValidator.fromObject({ trust_domains: domains.map((domain) => ({ name: domain.trustDomain, trust_bundle: { inline_bytes: rootsPem(domain.rootsDer) } })) } satisfies SPIFFECertValidatorConfig);
    return {
      name,
      validation_context: {
        custom_validator_config: {
          name: SPIFFE_VALIDATOR_NAME,
          typed_config: { type_url: `type.googleapis.com/${SPIFFE_VALIDATOR_TYPE}`, value: Buffer.from(Types.spiffeValidator.encode(validatorConfig).finish()) },
        },
        ...sanMatchers,
      },
    };
  };
  // Encoded once per bundle snapshot and variant; a federated-only secret is not cached (rare, small).
  return bundle ? cached(bundleCache, bundle, `${form}\n${name}\n${variant}\n${peerMatchersKey(peers)}`, build) : encodeSecret(build());
}

/** One allowedPeers matcher as Envoy's SubjectAltNameMatcher on the URI SAN (the SPIFFE ID). */
function uriSanMatcher(peer: PeerMatcher): SubjectAltNameMatcher {
  return { san_type: 'URI', matcher: 'exact' in peer ? { exact: peer.exact } : { prefix: peer.prefix } };
}

function rootsPem(rootsDer: readonly Buffer[]): Buffer {
  return Buffer.from(rootsDer.map((der) => derToPem('CERTIFICATE', der)).join(''));
}

function encodeSecret(secret: Secret): AnyMessage {
  return { type_url: SECRET_TYPE_URL, value: Buffer.from(Types.secret.encode(Types.secret.fromObject(secret)).finish()) };
}

function cached<K extends object>(cache: WeakMap<K, Map<string, AnyMessage>>, key: K, variant: string, build: () => Secret): AnyMessage {
  let byVariant = cache.get(key);
  if (!byVariant) {
    byVariant = new Map();
    cache.set(key, byVariant);
  }
  let encoded = byVariant.get(variant);
  if (!encoded) {
    encoded = encodeSecret(build());
    byVariant.set(variant, encoded);
  }
  return encoded;
}
