import path from 'node:path';
import protobuf from 'protobufjs';
import { derToPem } from '../identity/pem';
import { PROTO_DIR, SECRET_PROTO } from '../proto-files';
import type { TrustBundle, X509Svid } from '../rotation/x509-svid';
import { SECRET_TYPE_URL, type AnyMessage } from './messages';

// Secrets travel inside google.protobuf.Any, so they are encoded here with protobufjs rather than
// by grpc-js's per-method serializers.
function loadSecretType(): protobuf.Type {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
  root.loadSync(SECRET_PROTO, { keepCase: true });
  return root.lookupType('envoy.extensions.transport_sockets.tls.v3.Secret');
}
const SecretType = loadSecretType();

// Many Envoys on a node share an identity and every stream re-sends on rotation: encode each
// (certificate, name) once. Keys are the immutable snapshot objects, so entries die with them.
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

/** validation_context.trusted_ca: the PEM trust bundle. */
export function validationContextSecret(name: string, bundle: TrustBundle): AnyMessage {
  return cached(bundleCache, bundle, name, () => ({
    name,
    validation_context: {
      trusted_ca: { inline_bytes: Buffer.from(bundle.rootsDer.map((der) => derToPem('CERTIFICATE', der)).join('')) },
    },
  }));
}

function cached<K extends object>(cache: WeakMap<K, Map<string, AnyMessage>>, key: K, name: string, build: () => object): AnyMessage {
  let byName = cache.get(key);
  if (!byName) {
    byName = new Map();
    cache.set(key, byName);
  }
  let encoded = byName.get(name);
  if (!encoded) {
    encoded = { type_url: SECRET_TYPE_URL, value: Buffer.from(SecretType.encode(SecretType.fromObject(build())).finish()) };
    byName.set(name, encoded);
  }
  return encoded;
}
