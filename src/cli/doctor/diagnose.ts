import { analyseChain, type TrustVerdict } from './chain-path';
import { isSelfSigned, nameOf, subjectOf, type ExaminedCertificate } from './examined-certificate';
import { hasErrors, type Finding } from './finding';
import { keyFileFindings, rsaStrengthFindings, type KeyFile } from './key-checks';
import { leafRules, signingRules } from './svid-rules';
import { expiringSoonFinding, validityFindings } from './validity-checks';

/** Everything one doctor run judges, already read from files or from the wire. */
export interface DoctorInput {
  /** The certificate file, or host:port of a live peer. */
  readonly source: string;
  /** The certificates as presented: the file's order, or the peer's chain. */
  readonly presented: readonly ExaminedCertificate[];
  /** False for a live peer, whose sending order Node does not expose. */
  readonly orderKnown: boolean;
  /** Trust anchors; without them trust is "not checked". */
  readonly bundle?: readonly ExaminedCertificate[];
  readonly key?: KeyFile;
  readonly now: Date;
  /** Problems found while reading the input (unparseable blocks, TLS failures). */
  readonly inputFindings: readonly Finding[];
}

export interface CertificateSummary {
  readonly label: string;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly sha256: string;
}

/** The `subject` of the JSON report: what was examined. */
export interface SubjectSummary {
  readonly source: string;
  readonly spiffeId: string | null;
  readonly dnsNames: readonly string[];
  readonly subject: string | null;
  readonly issuer: string | null;
  readonly serialNumber: string | null;
  readonly notBefore: string | null;
  readonly notAfter: string | null;
  readonly publicKey: string | null;
  readonly trust: TrustVerdict;
  /** The leaf's path: leaf first, then its issuers, then the bundle certificate it reached. */
  readonly chain: readonly CertificateSummary[];
}

export interface DoctorReport {
  /** True when no finding is an error (warnings may remain). */
  readonly ok: boolean;
  /** Errors first, then warnings; within each, in the order the checks ran. */
  readonly findings: readonly Finding[];
  readonly subject: SubjectSummary;
}

export function diagnose(input: DoctorInput): DoctorReport {
  const findings: Finding[] = [...input.inputFindings];
  if (input.presented.length === 0) return report(findings, emptySubject(input.source));

  const chain = analyseChain(input.presented, input.bundle, input.orderKnown);
  findings.push(...chain.findings);
  const { findings: leafFindings, spiffeId } = leafRules(chain.leaf);
  findings.push(...leafFindings);
  // A self-signed root sent along is a trust anchor, not judged as an SVID (see svid-rules.ts).
  for (const signing of chain.path.slice(1).filter((certificate) => !isSelfSigned(certificate))) findings.push(...signingRules(signing, spiffeId));
  if (input.key) findings.push(...keyFileFindings(input.key, chain.leaf));

  const judged = chain.anchor && !chain.path.includes(chain.anchor) ? [...chain.path, chain.anchor] : chain.path;
  findings.push(...validityFindings(judged, input.now));
  const expiring = expiringSoonFinding(judged, input.now);
  if (expiring) findings.push(expiring);
  findings.push(...rsaStrengthFindings(judged));

  const { leaf } = chain;
  return report(findings, {
    source: input.source,
    spiffeId: spiffeId?.toString() ?? null,
    dnsNames: leaf.facts.subjectAltName?.dnsNames ?? [],
    subject: subjectOf(leaf),
    issuer: nameOf(leaf.x509.issuer),
    serialNumber: leaf.x509.serialNumber,
    notBefore: leaf.facts.notBefore.toISOString(),
    notAfter: leaf.facts.notAfter.toISOString(),
    publicKey: describeKey(leaf),
    trust: chain.trust,
    chain: judged.map(summary),
  });
}

function report(findings: Finding[], subject: SubjectSummary): DoctorReport {
  const ordered = [...findings.filter((f) => f.severity === 'error'), ...findings.filter((f) => f.severity !== 'error')];
  return { ok: !hasErrors(ordered), findings: ordered, subject };
}

function emptySubject(source: string): SubjectSummary {
  return { source, spiffeId: null, dnsNames: [], subject: null, issuer: null, serialNumber: null, notBefore: null, notAfter: null, publicKey: null, trust: 'not checked', chain: [] };
}

function summary(certificate: ExaminedCertificate): CertificateSummary {
  return {
    label: certificate.label,
    subject: subjectOf(certificate),
    issuer: nameOf(certificate.x509.issuer),
    notBefore: certificate.facts.notBefore.toISOString(),
    notAfter: certificate.facts.notAfter.toISOString(),
    sha256: certificate.x509.fingerprint256,
  };
}

/** "EC P-256", "RSA-2048", "ED25519". */
function describeKey(certificate: ExaminedCertificate): string {
  const key = certificate.x509.publicKey;
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') return `EC ${CURVE_NAMES[details?.namedCurve ?? ''] ?? details?.namedCurve ?? 'unknown curve'}`;
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') return `RSA-${details?.modulusLength ?? '?'}`;
  return (key.asymmetricKeyType ?? 'unknown').toUpperCase();
}

const CURVE_NAMES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
