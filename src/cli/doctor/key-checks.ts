import { createPrivateKey, type KeyObject } from 'node:crypto';
import { describe, type ExaminedCertificate } from './examined-certificate';
import type { Finding } from './finding';

/** What the doctor knows about the private key file, read by the caller. */
export interface KeyFile {
  readonly path: string;
  readonly pem: string;
  /** st_mode permission bits. */
  readonly mode: number;
}

/**
 * RSA-2048 gives ~112-bit security, which NIST SP 800-57 Part 1 accepts only through 2030;
 * 3072 bits is the 128-bit level that P-256 already gives with far cheaper handshakes.
 */
export const MIN_RSA_BITS = 3072;

export function keyFileFindings(key: KeyFile, leaf: ExaminedCertificate): Finding[] {
  const findings: Finding[] = [];
  // Any bit beyond owner read/write: a workload's key readable by group or others is a
  // credential anyone on the host can copy.
  if ((key.mode & 0o177) !== 0) {
    findings.push({
      id: 'key.permissions',
      severity: 'error',
      where: 'key',
      message: `${key.path} has mode ${octal(key.mode)}, wider than 0600: the private key is readable or executable beyond its owner`,
      fix: `chmod 600 ${key.path}`,
    });
  }
  const privateKey = parsePrivateKey(key, findings);
  if (privateKey && !matches(leaf, privateKey)) {
    findings.push({
      id: 'key.mismatch',
      severity: 'error',
      where: 'key',
      message: `the private key in ${key.path} does not belong to the leaf ${describe(leaf)}`,
      fix: 'use the key written together with this certificate: every rotation brings a new key, so a certificate and a key from different fetches never match (meshid writes svid.N.pem and svid.N.key side by side)',
    });
  }
  return findings;
}

function parsePrivateKey(key: KeyFile, findings: Finding[]): KeyObject | undefined {
  const unreadable = (message: string, fix: string): undefined => {
    findings.push({ id: 'key.unreadable', severity: 'error', where: 'key', message, fix });
    return undefined;
  };
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(key.pem)) {
    return unreadable(`${key.path} holds no PEM private key`, 'pass the PEM private key of the leaf (PKCS#8 "BEGIN PRIVATE KEY", as meshid writes it)');
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: *4, *ENCRYPTED/.test(key.pem)) {
    return unreadable(`${key.path} is encrypted; workloads need the key in clear to use the SVID`, `decrypt a copy for the workload: openssl pkey -in ${key.path} -out key.pem, then chmod 600 key.pem`);
  }
  try {
    return createPrivateKey({ key: key.pem, format: 'pem' });
  } catch {
    // OpenSSL's reason would say no more, and the key must never be echoed.
    return unreadable(`${key.path} holds a private key that cannot be parsed`, 'export the key again as PKCS#8 PEM (openssl pkey -in OLD -out key.pem)');
  }
}

function matches(leaf: ExaminedCertificate, privateKey: KeyObject): boolean {
  try {
    return leaf.x509.checkPrivateKey(privateKey);
  } catch {
    return false; // e.g. an EC key against an RSA certificate
  }
}

export function rsaStrengthFindings(certificates: readonly ExaminedCertificate[]): Finding[] {
  const findings: Finding[] = [];
  for (const certificate of certificates) {
    const { publicKey } = certificate.x509;
    const bits = publicKey.asymmetricKeyDetails?.modulusLength;
    if (publicKey.asymmetricKeyType !== 'rsa' || bits === undefined || bits >= MIN_RSA_BITS) continue;
    const isCa = certificate.facts.basicConstraints?.ca === true;
    findings.push({
      id: 'key.rsa-weak',
      severity: 'warning',
      where: certificate.label,
      message: `${describe(certificate)} has an RSA-${bits} key, below ${MIN_RSA_BITS} bits`,
      fix: isCa ? `re-key ${certificate.label} with EC P-256/P-384 or RSA-${MIN_RSA_BITS}+ and re-issue below it` : `issue the SVID with an EC P-256 or RSA-${MIN_RSA_BITS}+ key (meshid config: svid.keyType: ec-p256 or rsa-3072)`,
    });
  }
  return findings;
}

const octal = (mode: number): string => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
