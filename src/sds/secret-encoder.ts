import path from 'node:path';
import protobuf from 'protobufjs';
import { derToPem } from '../identity/pem';
import { PROTO_DIR, SECRET_PROTO } from '../proto-files';
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

/**
 * A validation context for the trust bundle, in the given form: trusted_ca (PEM roots), or the
 * SPIFFE validator with one TrustDomain entry per bundle. meshid has one trust domain today, so
 * `ALL` and `spiffe://<td>` carry the same single entry; federated bundles would add entries.
 */
export function validationContextSecret(name: string, bundle: TrustBundle, form: ValidatorForm): AnyMessage {
  return cached(bundleCache, bundle, `${form}\n${name}`, () => {
    const roots = { inline_bytes: rootsPem(bundle) };
    if (form === 'trusted-ca') return { name, validation_context: { trusted_ca: roots } };
    const validatorConfig = Types.spiffeValidator.fromObject({ trust_domains: [{ name: bundle.trustDomain, trust_bundle: roots }] });
    return {
      name,
      validation_context: {
        custom_validator_config: {
          name: SPIFFE_VALIDATOR_NAME,
          typed_config: { type_url: `type.googleapis.com/${SPIFFE_VALIDATOR_TYPE}`, value: Buffer.from(Types.spiffeValidator.encode(validatorConfig).finish()) },
        },
      },
    };
  });
}

function rootsPem(bundle: TrustBundle): Buffer {
  return Buffer.from(bundle.rootsDer.map((der) => derToPem('CERTIFICATE', der)).join(''));
}

function cached<K extends object>(cache: WeakMap<K, Map<string, AnyMessage>>, key: K, variant: string, build: () => object): AnyMessage {
  let byVariant = cache.get(key);
  if (!byVariant) {
    byVariant = new Map();
    cache.set(key, byVariant);
  }
  let encoded = byVariant.get(variant);
  if (!encoded) {
    encoded = { type_url: SECRET_TYPE_URL, value: Buffer.from(Types.secret.encode(Types.secret.fromObject(build())).finish()) };
    byVariant.set(variant, encoded);
  }
  return encoded;
}
