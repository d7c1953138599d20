import { execFile } from 'node:child_process';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import * as pkcs11 from 'pkcs11js';
import { createCaCertificate } from '../../src/identity/ca-certificate';
import type { CertificateSigner } from '../../src/identity/signer';

const run = promisify(execFile);

/**
 * A real SoftHSM v2 token per test, in its own directory. SoftHSM reads SOFTHSM2_CONF when the
 * module is initialized (C_Initialize), and the module is loaded once per process, so each
 * helper here initializes, works and finalizes before returning: the code under test then
 * initializes it afresh with the current test's configuration.
 */
export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
export const TOKEN_LABEL = 'meshid';
export const KEY_LABEL = 'upstream-ca';
/** Distinctive, so a test can assert they never appear in a message. */
export const USER_PIN = 'user-pin-7Qk2';
export const SO_PIN = 'so-pin-5Vw8';

export type HsmKeyType = 'ec-p256' | 'rsa-3072';

export interface SoftHsm {
  readonly dir: string;
  readonly confFile: string;
  /** Where SoftHSM keeps its tokens, one subdirectory each. */
  readonly tokenDir: string;
}

/** Creates the token directory and config, points SOFTHSM2_CONF at it and initializes a token. */
export async function createSoftHsm(dir: string, label = TOKEN_LABEL): Promise<SoftHsm> {
  const tokenDir = path.join(dir, 'tokens');
  await mkdir(tokenDir, { recursive: true, mode: 0o700 });
  const confFile = path.join(dir, 'softhsm2.conf');
  await writeFile(confFile, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  process.env.SOFTHSM2_CONF = confFile;
  await softhsmUtil(['--init-token', '--free', '--label', label, '--pin', USER_PIN, '--so-pin', SO_PIN]);
  return { dir, confFile, tokenDir };
}

export async function softhsmUtil(args: string[]): Promise<string> {
  const { stdout } = await run('softhsm2-util', args, { env: { ...process.env } });
  return stdout;
}

/** Runs `action` in a logged-in read/write session of the token labelled `label`, then finalizes. */
export function withSession<T>(action: (module: pkcs11.PKCS11, session: pkcs11.Handle, slot: pkcs11.Handle) => T, label = TOKEN_LABEL): T {
  const module = new pkcs11.PKCS11();
  module.load(SOFTHSM_MODULE);
  module.C_Initialize();
  try {
    const slot = module.C_GetSlotList(true).find((candidate) => module.C_GetTokenInfo(candidate).label.trim() === label);
    if (!slot) throw new Error(`test HSM: no token ${label}`);
    const session = module.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION);
    module.C_Login(session, pkcs11.CKU_USER, USER_PIN);
    return action(module, session, slot);
  } finally {
    module.C_Finalize();
    module.close();
  }
}

const P256_OID_DER = Buffer.from('06082a8648ce3d030107', 'hex');
const base64url = (bytes: Buffer): string => bytes.toString('base64url');

export interface GeneratedHsmKey {
  readonly publicKey: KeyObject;
  /** The private key's CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE, as the token reports them. */
  readonly neverLeftTheToken: boolean;
}

/**
 * Generates a key pair inside the token (C_GenerateKeyPair): the private half is sensitive and
 * not extractable from birth, so it never exists outside the HSM. Returns the public half.
 */
export function generateKeyInHsm(keyType: HsmKeyType, label = KEY_LABEL, options: { canSign?: boolean } = {}): GeneratedHsmKey {
  return withSession((module, session) => {
    const common = [
      { type: pkcs11.CKA_TOKEN, value: true },
      { type: pkcs11.CKA_LABEL, value: label },
      { type: pkcs11.CKA_ID, value: createHash('sha256').update(label).digest().subarray(0, 8) },
    ];
    const privateTemplate = [
      ...common,
      { type: pkcs11.CKA_PRIVATE, value: true },
      { type: pkcs11.CKA_SENSITIVE, value: true },
      { type: pkcs11.CKA_EXTRACTABLE, value: false },
      { type: pkcs11.CKA_SIGN, value: options.canSign ?? true },
    ];
    const pair =
      keyType === 'ec-p256'
        ? module.C_GenerateKeyPair(session, { mechanism: pkcs11.CKM_EC_KEY_PAIR_GEN }, [...common, { type: pkcs11.CKA_VERIFY, value: true }, { type: pkcs11.CKA_EC_PARAMS, value: P256_OID_DER }], privateTemplate)
        : module.C_GenerateKeyPair(
            session,
            { mechanism: pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN },
            [...common, { type: pkcs11.CKA_VERIFY, value: true }, { type: pkcs11.CKA_MODULUS_BITS, value: 3072 }, { type: pkcs11.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) }],
            privateTemplate,
          );
    const flags = module.C_GetAttributeValue(session, pair.privateKey, [{ type: pkcs11.CKA_ALWAYS_SENSITIVE }, { type: pkcs11.CKA_NEVER_EXTRACTABLE }]);
    const neverLeftTheToken = flags.every((attribute) => attribute.value[0] === 1);
    return { publicKey: publicKeyOf(module, session, pair.publicKey, keyType), neverLeftTheToken };
  });
}

function publicKeyOf(module: pkcs11.PKCS11, session: pkcs11.Handle, handle: pkcs11.Handle, keyType: HsmKeyType): KeyObject {
  if (keyType === 'ec-p256') {
    const [point] = module.C_GetAttributeValue(session, handle, [{ type: pkcs11.CKA_EC_POINT }]);
    // CKA_EC_POINT is the DER OCTET STRING (04 41) around the uncompressed point 04 || x || y.
    const uncompressed = point?.value.subarray(2) ?? Buffer.alloc(0);
    return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: base64url(uncompressed.subarray(1, 33)), y: base64url(uncompressed.subarray(33, 65)) }, format: 'jwk' });
  }
  const [modulus, exponent] = module.C_GetAttributeValue(session, handle, [{ type: pkcs11.CKA_MODULUS }, { type: pkcs11.CKA_PUBLIC_EXPONENT }]);
  return createPublicKey({ key: { kty: 'RSA', n: base64url(modulus?.value ?? Buffer.alloc(0)), e: base64url(exponent?.value ?? Buffer.alloc(0)) }, format: 'jwk' });
}

/**
 * The test's own signer for the HSM key (independent of src/upstream): used only to self-sign
 * the CA certificate the way an operator's tooling would, before meshid ever touches the token.
 */
function testHsmSigner(publicKey: KeyObject, label: string): CertificateSigner {
  const ec = publicKey.asymmetricKeyType === 'ec';
  return {
    signatureAlgorithmDer: Buffer.from(ec ? '300a06082a8648ce3d040302' : '300d06092a864886f70d01010b0500', 'hex'),
    publicKeySpkiDer: publicKey.export({ type: 'spki', format: 'der' }),
    sign: (tbs) =>
      Promise.resolve(
        withSession((module, session) => {
          module.C_FindObjectsInit(session, [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY }, { type: pkcs11.CKA_LABEL, value: label }]);
          const key = module.C_FindObjects(session);
          module.C_FindObjectsFinal(session);
          if (!key) throw new Error(`test HSM: no key ${label}`);
          if (!ec) {
            module.C_SignInit(session, { mechanism: pkcs11.CKM_SHA256_RSA_PKCS }, key);
            return module.C_Sign(session, tbs, Buffer.alloc(512));
          }
          module.C_SignInit(session, { mechanism: pkcs11.CKM_ECDSA }, key);
          const raw = module.C_Sign(session, createHash('sha256').update(tbs).digest(), Buffer.alloc(128));
          return derEcdsaSignature(raw);
        }),
      ),
  };
}

/** r||s to SEQUENCE { INTEGER r, INTEGER s } for P-256 (short lengths only). */
function derEcdsaSignature(raw: Buffer): Buffer {
  const integer = (bytes: Buffer): Buffer => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    const body = (bytes[start] ?? 0) >= 0x80 ? Buffer.concat([Buffer.from([0]), bytes.subarray(start)]) : bytes.subarray(start);
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const content = Buffer.concat([integer(raw.subarray(0, raw.length / 2)), integer(raw.subarray(raw.length / 2))]);
  return Buffer.concat([Buffer.from([0x30, content.length]), content]);
}

/** A self-signed CA certificate for the HSM key, signed inside the HSM. PEM. */
export async function selfSignedHsmCa(publicKey: KeyObject, label = KEY_LABEL, commonName = 'HSM root CA'): Promise<string> {
  const now = Date.now();
  const der = await createCaCertificate({
    subjectCommonName: commonName,
    subjectPublicKeySpkiDer: publicKey.export({ type: 'spki', format: 'der' }),
    issuer: { signer: testHsmSigner(publicKey, label) },
    trustDomain: 'example.org',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 365 * 86_400_000),
  });
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END CERTIFICATE-----\n`;
}
