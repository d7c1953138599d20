import { createHash, createHmac, createPrivateKey, randomBytes } from 'node:crypto';
import { explicit, octetString, oid, sequence, set, smallInteger, tlv } from '../identity/der';

/**
 * A PKCS#12 keystore (RFC 7292) holding one private key and its certificate chain, for software
 * that reads keystores rather than PEM (Java's keytool and KeyStore). Written with node:crypto and
 * the project's DER writer: the key is a PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) shrouded key bag
 * — node:crypto's own encrypted PKCS#8 export — the certificates are plain cert bags, and the
 * whole is integrity-protected by an HMAC-SHA256 MAC keyed with the PKCS#12 KDF. These are the
 * algorithms OpenSSL 3 writes by default and Java 11.0.12+/17 read. No library of the field
 * writes PKCS#12 with EC keys from Node without WebCrypto ceremony (node-forge supports RSA
 * only), and the format is small, so it is built here.
 */
export interface Pkcs12Input {
  /** Leaf first. */
  readonly chainDer: readonly Buffer[];
  readonly privateKeyPkcs8Der: Buffer;
  readonly password: string;
  /** The keystore alias Java shows. */
  readonly friendlyName: string;
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  sha256: '2.16.840.1.101.3.4.2.1',
};
const MAC_ITERATIONS = 2048;
const BMP_STRING = 0x1e;

const bmpString = (text: string): Buffer => tlv(BMP_STRING, Buffer.from(text, 'utf16le').swap16());
const attribute = (type: string, value: Buffer): Buffer => sequence(oid(type), set(value));
const dataContentInfo = (content: Buffer): Buffer => sequence(oid(OID.data), explicit(0, octetString(content)));
const safeBag = (bagId: string, value: Buffer, attributes: Buffer[]): Buffer =>
  sequence(oid(bagId), explicit(0, value), ...(attributes.length > 0 ? [set(...attributes)] : []));

export function buildPkcs12(input: Pkcs12Input): Buffer {
  const leaf = input.chainDer[0];
  if (!leaf) throw new Error('PKCS#12 needs at least the leaf certificate');
  // localKeyId pairs the key with its certificate (Java and OpenSSL both match on it).
  const localKeyId = createHash('sha1').update(leaf).digest();
  const leafAttributes = [attribute(OID.friendlyName, bmpString(input.friendlyName)), attribute(OID.localKeyId, octetString(localKeyId))];

  const encryptedKey = createPrivateKey({ key: input.privateKeyPkcs8Der, format: 'der', type: 'pkcs8' }).export({
    format: 'der',
    type: 'pkcs8',
    cipher: 'aes-256-cbc',
    passphrase: input.password,
  });
  const keySafe = sequence(safeBag(OID.pkcs8ShroudedKeyBag, encryptedKey, leafAttributes));
  const certSafe = sequence(
    ...input.chainDer.map((der, index) => safeBag(OID.certBag, sequence(oid(OID.x509Certificate), explicit(0, octetString(der))), index === 0 ? leafAttributes : [])),
  );
  const authenticatedSafe = sequence(dataContentInfo(certSafe), dataContentInfo(keySafe));

  const macSalt = randomBytes(16);
  const macKey = pkcs12Kdf(input.password, macSalt, 3, MAC_ITERATIONS, 32);
  const mac = createHmac('sha256', macKey).update(authenticatedSafe).digest();
  const macData = sequence(sequence(sequence(oid(OID.sha256), tlv(0x05, Buffer.alloc(0))), octetString(mac)), octetString(macSalt), smallInteger(MAC_ITERATIONS));
  return sequence(smallInteger(3), dataContentInfo(authenticatedSafe), macData);
}

/**
 * RFC 7292 appendix B.2 key derivation with SHA-256 (u = 32, v = 64). `id` 3 derives MAC keys.
 * The password is a BMPString with a two-byte NUL terminator, as the appendix requires.
 */
export function pkcs12Kdf(password: string, salt: Buffer, id: number, iterations: number, length: number): Buffer {
  const u = 32;
  const v = 64;
  const passwordBytes = Buffer.concat([Buffer.from(password, 'utf16le').swap16(), Buffer.alloc(2)]);
  const fill = (source: Buffer): Buffer => {
    if (source.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(v * Math.ceil(source.length / v));
    for (let i = 0; i < out.length; i++) out[i] = source[i % source.length] as number;
    return out;
  };
  const diversifier = Buffer.alloc(v, id);
  const input = Buffer.concat([fill(salt), fill(passwordBytes)]);
  const blocks: Buffer[] = [];
  for (let produced = 0; produced < length; produced += u) {
    let a = createHash('sha256').update(diversifier).update(input).digest();
    for (let round = 1; round < iterations; round++) a = createHash('sha256').update(a).digest();
    blocks.push(a);
    // I_j = (I_j + B + 1) mod 2^(8v) for each v-byte block of I, B being A repeated to v bytes.
    const b = fill(a);
    for (let offset = 0; offset < input.length; offset += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = (input[offset + k] as number) + (b[k] as number) + carry;
        input[offset + k] = sum & 0xff;
        carry = sum >>> 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, length);
}
