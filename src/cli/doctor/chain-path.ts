import { describe, isSame, isSelfSigned, nameOf, signedBy, subjectOf, type ExaminedCertificate } from './examined-certificate';
import type { Finding } from './finding';

export type TrustVerdict = 'trusted' | 'untrusted' | 'not checked';

export interface ChainAnalysis {
  readonly leaf: ExaminedCertificate;
  /** The leaf, then each issuer found among the presented certificates, in issuing order. */
  readonly path: readonly ExaminedCertificate[];
  /** The bundle certificate the path reached, when it did. */
  readonly anchor?: ExaminedCertificate;
  readonly trust: TrustVerdict;
  readonly findings: readonly Finding[];
}

/**
 * Builds the path from the leaf up through the presented certificates to the bundle, verifying
 * every signature, and reports what stops it or what is out of place. `orderKnown` is false for
 * a live peer: Node hands the peer's chain over already re-sorted by issuer, so the order it was
 * sent in cannot be judged.
 */
export function analyseChain(presented: readonly ExaminedCertificate[], bundle: readonly ExaminedCertificate[] | undefined, orderKnown: boolean): ChainAnalysis {
  const findings: Finding[] = [];
  const [first] = presented;
  if (!first) throw new Error('analyseChain needs at least one certificate');

  const leaf = orderKnown ? findLeaf(presented, first, findings) : first;
  const path = [leaf];
  const unused = presented.filter((certificate) => certificate !== leaf);
  let anchor: ExaminedCertificate | undefined;
  for (let current = leaf; ; ) {
    anchor = bundle?.find((trusted) => isSame(trusted, current) || signedBy(current, trusted));
    if (anchor) break;
    const index = unused.findIndex((candidate) => signedBy(current, candidate));
    if (index === -1) break;
    const [next] = unused.splice(index, 1);
    if (!next) break;
    path.push(next);
    current = next;
  }

  if (orderKnown && leaf === first && path.some((certificate, index) => presented[index] !== certificate)) {
    findings.push({
      id: 'chain.order',
      severity: 'warning',
      message: `the certificates after the leaf are not in issuing order (TLS 1.2 peers require it): found ${presented.map((c) => c.label).join(', ')}`,
      fix: `reorder the certificate file as: ${path.map(describe).join(', then ')}`,
    });
  }
  // Sending the root along is wasteful but common and harmless: not worth a finding.
  for (const extra of unused.filter((certificate) => !bundle?.some((trusted) => isSame(trusted, certificate)))) {
    findings.push({
      id: 'chain.unused-certificate',
      severity: 'warning',
      where: extra.label,
      message: `${describe(extra)} is not on the leaf's path to the bundle and is sent for nothing`,
      fix: `remove ${extra.label} from the certificate file`,
    });
  }
  if (!bundle) return { leaf, path, trust: 'not checked', findings };
  if (anchor) return { leaf, path, anchor, trust: 'trusted', findings };
  findings.push(untrusted(path[path.length - 1] ?? leaf, presented, bundle));
  return { leaf, path, trust: 'untrusted', findings };
}

/**
 * The leaf is the certificate that issued none of the others. A file that starts with an issuer
 * makes TLS stacks present the wrong certificate for the private key, so this is an error.
 */
function findLeaf(presented: readonly ExaminedCertificate[], first: ExaminedCertificate, findings: Finding[]): ExaminedCertificate {
  const issuesAnother = (certificate: ExaminedCertificate): boolean => presented.some((other) => other !== certificate && signedBy(other, certificate));
  if (!issuesAnother(first)) return first;
  const endEntities = presented.filter((certificate) => !issuesAnother(certificate));
  const leaf = endEntities.find((certificate) => certificate.facts.basicConstraints?.ca !== true) ?? endEntities[0];
  if (!leaf) return first;
  findings.push({
    id: 'chain.leaf-not-first',
    severity: 'error',
    where: leaf.label,
    message: `the leaf certificate is ${describe(leaf)}, but the file starts with ${describe(first)}, which issued another certificate in the file`,
    fix: `put the leaf (${subjectOf(leaf)}) first in the certificate file, followed by its issuers`,
  });
  return leaf;
}

/** Says why the path stops short of the bundle, in the terms an operator can act on. */
function untrusted(top: ExaminedCertificate, presented: readonly ExaminedCertificate[], bundle: readonly ExaminedCertificate[]): Finding {
  const issuerName = nameOf(top.x509.issuer);
  const base = { id: 'chain.untrusted', severity: 'error' as const, where: top.label };
  if (isSelfSigned(top)) {
    return {
      ...base,
      message: `the chain ends at the self-signed ${describe(top)}, which is not in the bundle`,
      fix: `use the bundle of the CA that issued this chain (meshid writes it as bundle.N.pem), or add ${subjectOf(top)} to the bundle if it is your trust domain's root`,
    };
  }
  const namesake = [...bundle, ...presented].find((candidate) => candidate !== top && candidate.x509.subject === top.x509.issuer);
  if (namesake) {
    return {
      ...base,
      message: `${describe(namesake)} has the issuer's name ${issuerName}, but its key did not sign ${describe(top)}: the CA was probably re-created with the same name`,
      fix: `replace ${namesake.label} with the current certificate of ${issuerName}, or re-issue ${top.label} from the CA in the bundle`,
    };
  }
  return {
    ...base,
    message: `nothing in the certificate file or the bundle issued ${describe(top)}: its issuer ${issuerName} is missing`,
    fix: `append the intermediate ${issuerName} to the certificate file after ${top.label}, or, if ${issuerName} is a root you trust, add it to the bundle`,
  };
}
