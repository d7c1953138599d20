import { VERSION_V3, SERIAL_LENGTH, SERIAL_TLV_LENGTH, writeRandomSerial } from './certificate';
import { keyIdentifierFromSpki, type IssuerParts } from './certificate-parts';
import { headerLength, oid, TAG, tlvLength, writeHeader } from './der';
import { readElement } from './der-reader';
import { timeLength, writeTime } from './x509-time';
import {
  authorityKeyIdentifier,
  basicConstraints,
  distinguishedName,
  extKeyUsageServerClient,
  GENERAL_NAME,
  KEY_USAGE,
  keyUsage,
  MAX_COMMON_NAME,
  SAN_OID,
  SKI_PREFIX,
} from './x509-extensions';

export interface LeafFields {
  readonly spiffeId: string;
  readonly dnsNames: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKeySpkiDer: Buffer;
}

export interface EncodedTbs {
  readonly tbsDer: Buffer;
  readonly serialHex: string;
}

// Subject (RFC 5280 §4.1.2.6): O=meshid, then CN=<first DNS name> when there is one, as TLS
// tools and logs show the subject; the identity itself is only ever the URI SAN.
const SUBJECT_WITHOUT_CN = distinguishedName('meshid');
/** The O RDN, i.e. the subject's content when a CN RDN follows. */
const ORGANIZATION_RDN = SUBJECT_WITHOUT_CN.subarray(readElement(SUBJECT_WITHOUT_CN, 0).contentStart);
const CN_OID = oid('2.5.4.3');
const SKI_EXTENSION_LENGTH = SKI_PREFIX.length + 20;

/**
 * The TBSCertificate (RFC 5280 §4.1) of an X.509-SVID leaf as a template: everything that is the
 * same for every leaf under one issuer is encoded once in the constructor, and `encode` writes
 * the whole TBSCertificate into a single buffer of exactly the right size, filling in only
 * serial, validity, subject CN, SPKI, SKI and SAN (marked * below).
 *
 *   SEQUENCE { version | serial* | signature alg | issuer | validity* | subject* | spki* |
 *              [3] { SEQUENCE { basicConstraints, keyUsage, extKeyUsage, AKI, SKI*, SAN* } } }
 */
export class LeafTemplate {
  /** signature AlgorithmIdentifier + issuer Name: adjacent in the TBSCertificate. */
  private readonly algorithmAndIssuer: Buffer;
  /** basicConstraints, keyUsage, extKeyUsage and AKI extensions, concatenated. */
  private readonly constantExtensions: Buffer;

  constructor(issuer: IssuerParts, signatureAlgorithmDer: Buffer, rsaKey: boolean) {
    this.algorithmAndIssuer = Buffer.concat([signatureAlgorithmDer, issuer.subjectNameDer]);
    // X509-SVID §4.3: digitalSignature required, keyEncipherment allowed (RSA key transport),
    // never keyCertSign/cRLSign. EC leaves sign (ECDHE) and need no more.
    const usage = rsaKey ? [KEY_USAGE.digitalSignature, KEY_USAGE.keyEncipherment] : [KEY_USAGE.digitalSignature];
    this.constantExtensions = Buffer.concat([
      basicConstraints(false), // X509-SVID §4.1: leaf, cA=false, critical
      keyUsage(usage),
      extKeyUsageServerClient(), // X509-SVID §4.4
      authorityKeyIdentifier(issuer.keyIdentifier), // RFC 5280 §4.2.1.1: links to the issuer's SKI
    ]);
  }

  encode(fields: LeafFields): EncodedTbs {
    const { spiffeId, dnsNames, notBefore, notAfter, publicKeySpkiDer } = fields;

    // SubjectAltName (RFC 5280 §4.2.1.6): exactly one URI, the SPIFFE ID (X509-SVID §2), then
    // the DNS names. Non-critical: the subject is not empty. Names are validated ASCII.
    let namesLength = tlvLength(spiffeId.length);
    for (const name of dnsNames) namesLength += tlvLength(name.length);
    const generalNamesLength = tlvLength(namesLength);
    const sanContentLength = SAN_OID.length + tlvLength(generalNamesLength);
    const extensionsContentLength = this.constantExtensions.length + SKI_EXTENSION_LENGTH + tlvLength(sanContentLength);
    const extensionsLength = tlvLength(tlvLength(extensionsContentLength));

    const validityContentLength = timeLength(notBefore) + timeLength(notAfter);
    // SET { SEQUENCE { OID cn, UTF8String } }, written below; DNS names are validated ASCII.
    const first = dnsNames[0];
    const commonName = first !== undefined && first.length <= MAX_COMMON_NAME ? first : undefined;
    const cnAttributeLength = commonName === undefined ? 0 : CN_OID.length + tlvLength(commonName.length);
    const subjectContentLength = commonName === undefined ? 0 : ORGANIZATION_RDN.length + tlvLength(tlvLength(cnAttributeLength));
    const subjectLength = commonName === undefined ? SUBJECT_WITHOUT_CN.length : tlvLength(subjectContentLength);

    const tbsContentLength =
      VERSION_V3.length +
      SERIAL_TLV_LENGTH +
      this.algorithmAndIssuer.length +
      tlvLength(validityContentLength) +
      subjectLength +
      publicKeySpkiDer.length +
      extensionsLength;
    const tbs = Buffer.allocUnsafe(headerLength(tbsContentLength) + tbsContentLength);

    let offset = writeHeader(tbs, 0, TAG.SEQUENCE, tbsContentLength);
    offset += VERSION_V3.copy(tbs, offset);
    const serialStart = offset + 2;
    offset = writeRandomSerial(tbs, offset);
    offset += this.algorithmAndIssuer.copy(tbs, offset);
    offset = writeHeader(tbs, offset, TAG.SEQUENCE, validityContentLength);
    offset = writeTime(tbs, offset, notBefore);
    offset = writeTime(tbs, offset, notAfter);
    if (commonName === undefined) {
      offset += SUBJECT_WITHOUT_CN.copy(tbs, offset);
    } else {
      offset = writeHeader(tbs, offset, TAG.SEQUENCE, subjectContentLength);
      offset += ORGANIZATION_RDN.copy(tbs, offset);
      offset = writeHeader(tbs, offset, TAG.SET, tlvLength(cnAttributeLength));
      offset = writeHeader(tbs, offset, TAG.SEQUENCE, cnAttributeLength);
      offset += CN_OID.copy(tbs, offset);
      offset = writeHeader(tbs, offset, TAG.UTF8_STRING, commonName.length);
      offset += tbs.write(commonName, offset, 'latin1');
    }
    offset += publicKeySpkiDer.copy(tbs, offset);

    offset = writeHeader(tbs, offset, 0xa3, tlvLength(extensionsContentLength));
    offset = writeHeader(tbs, offset, TAG.SEQUENCE, extensionsContentLength);
    offset += this.constantExtensions.copy(tbs, offset);
    // SubjectKeyIdentifier (RFC 5280 §4.2.1.2, method 1).
    offset += SKI_PREFIX.copy(tbs, offset);
    offset += keyIdentifierFromSpki(publicKeySpkiDer).copy(tbs, offset);
    offset = writeHeader(tbs, offset, TAG.SEQUENCE, sanContentLength);
    offset += SAN_OID.copy(tbs, offset);
    offset = writeHeader(tbs, offset, TAG.OCTET_STRING, generalNamesLength);
    offset = writeHeader(tbs, offset, TAG.SEQUENCE, namesLength);
    offset = writeHeader(tbs, offset, GENERAL_NAME.uniformResourceIdentifier, spiffeId.length);
    offset += tbs.write(spiffeId, offset, 'latin1');
    for (const name of dnsNames) {
      offset = writeHeader(tbs, offset, GENERAL_NAME.dNSName, name.length);
      offset += tbs.write(name, offset, 'latin1');
    }
    if (offset !== tbs.length) throw new Error(`leaf template: wrote ${offset} of ${tbs.length} bytes`);
    return { tbsDer: tbs, serialHex: tbs.toString('hex', serialStart, serialStart + SERIAL_LENGTH) };
  }
}
