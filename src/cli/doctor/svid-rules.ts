import { id_kp_clientAuth, id_kp_serverAuth } from '@peculiar/asn1-x509';
import { isMeshidError } from '../../common/errors';
import { SpiffeId } from '../../identity/spiffe-id';
import { describe, type ExaminedCertificate } from './examined-certificate';
import type { Finding } from './finding';

/**
 * The SPIFFE X509-SVID standard, one finding per broken rule, each citing its section
 * (https://github.com/spiffe/spiffe/blob/main/standards/X509-SVID.md). The leaf is judged as a
 * leaf SVID; every other certificate on the presented path as a signing certificate, except a
 * self-signed root. Roots (in the bundle or sent along) are not judged: an operator's root is
 * often a classic `openssl req -x509` CA without keyUsage, which path validation accepts, and
 * it is a trust anchor chosen by whoever trusts it, not an SVID.
 *
 * Not enforced: Appendix A's "digitalSignature if and only if leaf". Section 4.3 (the normative
 * text) does not forbid it on signing certificates, and CAs commonly set it to sign OCSP/CRLs.
 */

const REISSUE = 're-issue the certificate';

export function leafRules(leaf: ExaminedCertificate): { findings: Finding[]; spiffeId?: SpiffeId } {
  const findings: Finding[] = [];
  const { facts } = leaf;
  const rule = (id: string, severity: Finding['severity'], section: string, message: string, fix: string): void => {
    findings.push({ id, severity, where: 'leaf', rule: `X509-SVID ${section}`, message, fix });
  };

  let spiffeId: SpiffeId | undefined;
  const san = facts.subjectAltName;
  if (!san) {
    rule('san.missing', 'error', '§2', 'the leaf has no subjectAltName extension, so it names no SPIFFE ID (and no DNS name)', `${REISSUE} with subjectAltName=URI:spiffe://<trust domain>/<workload> (openssl: -addext "subjectAltName=URI:spiffe://example.org/web")`);
  } else if (san.uris.length !== 1) {
    rule('svid.uri-san-count', 'error', '§2', `an X509-SVID has exactly one URI SAN; this leaf has ${san.uris.length}${san.uris.length ? `: ${san.uris.join(', ')}` : ''}`, `${REISSUE} with exactly one URI SAN, the SPIFFE ID; other identities go in DNS SANs or in separate SVIDs`);
  } else {
    const [uri = ''] = san.uris;
    try {
      spiffeId = SpiffeId.parse(uri);
    } catch (error) {
      if (!isMeshidError(error, 'INVALID_SPIFFE_ID')) throw error;
      rule('svid.spiffe-id', 'error', '§2, §5.2', `the URI SAN is not a valid SPIFFE ID: ${error.message}`, `${REISSUE} with a URI SAN of the form spiffe://<trust domain>/<path> (lowercase trust domain; path segments of letters, digits, ".", "-", "_"; no wildcards)`);
    }
    if (spiffeId?.isRoot) rule('svid.leaf-id-path', 'error', '§3.1, §5.2', `the leaf's SPIFFE ID ${spiffeId.toString()} has no path; only signing certificates carry the bare trust domain`, `${REISSUE} with a workload path, e.g. ${spiffeId.toString()}/web`);
  }
  if (san && facts.subjectEmpty && !san.critical) {
    rule('svid.san-critical', 'error', '§3.1', 'the subject is empty but the subjectAltName extension is not critical (RFC 5280 §4.1.2.6)', `${REISSUE} with a subject, or with subjectAltName marked critical`);
  }
  if (facts.basicConstraints?.ca === true) {
    rule('svid.leaf-ca', 'error', '§4.1, §5.2', 'the leaf has basicConstraints cA=true; relying parties must reject a CA certificate as an SVID', `${REISSUE} with basicConstraints=critical,CA:FALSE`);
  }
  if (!facts.keyUsage) {
    rule('svid.key-usage-missing', 'error', '§4.3', 'the leaf has no keyUsage extension', `${REISSUE} with keyUsage=critical,digitalSignature`);
  } else {
    if (!facts.keyUsage.critical) rule('svid.key-usage-critical', 'error', '§4.3', 'the keyUsage extension is not marked critical', `${REISSUE} with keyUsage=critical,digitalSignature`);
    if (!facts.keyUsage.usages.has('digitalSignature')) rule('svid.leaf-digital-signature', 'error', '§4.3', `the leaf's keyUsage lacks digitalSignature (has: ${[...facts.keyUsage.usages].join(', ') || 'nothing known'})`, `${REISSUE} with keyUsage=critical,digitalSignature`);
    const { usages } = facts.keyUsage;
    const signing = (['keyCertSign', 'cRLSign'] as const).filter((usage) => usages.has(usage));
    if (signing.length) rule('svid.leaf-signing-usage', 'error', '§4.3, §5.2', `the leaf's keyUsage sets ${signing.join(' and ')}, which only signing certificates may set`, `${REISSUE} with keyUsage=critical,digitalSignature (no keyCertSign, no cRLSign)`);
  }
  if (!facts.extendedKeyUsage) {
    rule('svid.leaf-eku-missing', 'warning', '§4.4', 'the leaf has no extendedKeyUsage; X509-SVIDs should carry serverAuth and clientAuth', `${REISSUE} with extendedKeyUsage=serverAuth,clientAuth`);
  } else {
    const missing = [
      ['serverAuth', id_kp_serverAuth],
      ['clientAuth', id_kp_clientAuth],
    ].filter(([, id]) => !facts.extendedKeyUsage?.includes(id ?? ''));
    if (missing.length) rule('svid.leaf-eku', 'error', '§4.4', `the leaf's extendedKeyUsage lacks ${missing.map(([name]) => name).join(' and ')}, so it cannot serve both ends of mutual TLS`, `${REISSUE} with extendedKeyUsage=serverAuth,clientAuth`);
  }
  return { findings, ...(spiffeId && { spiffeId }) };
}

export function signingRules(certificate: ExaminedCertificate, leafId: SpiffeId | undefined): Finding[] {
  const findings: Finding[] = [];
  const { facts } = certificate;
  const rule = (id: string, severity: Finding['severity'], section: string, message: string, fix: string): void => {
    findings.push({ id, severity, where: certificate.label, rule: `X509-SVID ${section}`, message: `${describe(certificate)}: ${message}`, fix });
  };
  if (facts.basicConstraints?.ca !== true) {
    rule('svid.signing-ca', 'error', '§3.2, §4.1', 'it signed the certificate below it but its basicConstraints cA is not true', `re-issue ${certificate.label} as a CA: basicConstraints=critical,CA:TRUE`);
  }
  if (!facts.keyUsage?.usages.has('keyCertSign')) {
    rule('svid.signing-key-cert-sign', 'error', '§3.2, §4.3', facts.keyUsage ? 'its keyUsage lacks keyCertSign' : 'it has no keyUsage extension, so it does not set keyCertSign', `re-issue ${certificate.label} with keyUsage=critical,keyCertSign,cRLSign`);
  } else if (!facts.keyUsage.critical) {
    rule('svid.key-usage-critical', 'error', '§4.3', 'its keyUsage extension is not marked critical', `re-issue ${certificate.label} with keyUsage=critical,keyCertSign,cRLSign`);
  }
  const ids = (facts.subjectAltName?.uris ?? []).filter((uri) => uri.startsWith('spiffe://'));
  for (const uri of ids) {
    let id: SpiffeId;
    try {
      id = SpiffeId.parse(uri);
    } catch {
      rule('svid.signing-id', 'error', '§3.2', `its URI SAN ${uri} is not a valid SPIFFE ID`, `re-issue ${certificate.label} with URI SAN spiffe://<trust domain>`);
      continue;
    }
    if (!id.isRoot) {
      rule('svid.signing-id', 'error', '§3.2', `its SPIFFE ID ${uri} has a path; a signing certificate's SPIFFE ID must not`, `re-issue ${certificate.label} with URI SAN spiffe://${id.trustDomain}`);
    } else if (leafId && id.trustDomain !== leafId.trustDomain) {
      rule('svid.signing-trust-domain', 'warning', '§3.2', `it belongs to trust domain ${id.trustDomain} but issued ${leafId.toString()}`, `issue SVIDs of ${leafId.trustDomain} from that trust domain's own CA`);
    }
  }
  return findings;
}
