import { extensionValue } from '../identity/certificate-parts';
import { oid, TAG } from '../identity/der';
import { children, contentOf, readElement } from '../identity/der-reader';
import { EXT } from '../identity/x509-extensions';

/**
 * basicConstraints fields Node's X509Certificate does not expose, read from an operator's
 * certificate with the identity module's DER reader.
 */
const BASIC_CONSTRAINTS_OID = oid(EXT.basicConstraints);

function basicConstraintsFields(certificateDer: Buffer): { der: Buffer; fields: ReturnType<typeof children> } | undefined {
  const value = extensionValue(certificateDer, BASIC_CONSTRAINTS_OID);
  return value ? { der: value, fields: children(value, readElement(value, 0)) } : undefined;
}

/**
 * basicConstraints cA. Read here because Node's X509Certificate.ca (OpenSSL's X509_check_ca)
 * also says false for a cA=true certificate whose keyUsage lacks keyCertSign, which would make
 * the error message point at the wrong extension.
 */
export function basicConstraintsCa(certificateDer: Buffer): boolean {
  const constraints = basicConstraintsFields(certificateDer);
  const first = constraints?.fields[0];
  return !!constraints && first?.tag === TAG.BOOLEAN && contentOf(constraints.der, first)[0] !== 0;
}

/** basicConstraints pathLenConstraint (RFC 5280 §4.2.1.9), or undefined when absent (no limit). */
export function pathLengthConstraint(certificateDer: Buffer): number | undefined {
  const constraints = basicConstraintsFields(certificateDer);
  const pathLen = constraints?.fields.find((field) => field.tag === TAG.INTEGER);
  return constraints && pathLen ? contentOf(constraints.der, pathLen).reduce((total, byte) => total * 256 + byte, 0) : undefined;
}
