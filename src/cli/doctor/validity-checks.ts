import { describe, type ExaminedCertificate } from './examined-certificate';
import type { Finding } from './finding';

/**
 * Off by less than this, an expired or not-yet-valid certificate is more likely a wrong clock
 * (on this host or the issuer's) than a stale file: a fresh SVID is backdated only seconds.
 */
export const CLOCK_SKEW_WINDOW_MS = 300_000;
const DAY_MS = 86_400_000;

/** Expired and not-yet-valid certificates anywhere on the path, the anchor included. */
export function validityFindings(certificates: readonly ExaminedCertificate[], now: Date): Finding[] {
  const findings: Finding[] = [];
  for (const certificate of certificates) {
    const { notBefore, notAfter } = certificate.facts;
    const renew = renewal(certificate);
    if (now.getTime() > notAfter.getTime()) {
      const late = now.getTime() - notAfter.getTime();
      const skew = late < CLOCK_SKEW_WINDOW_MS;
      findings.push({
        id: 'validity.expired',
        severity: 'error',
        where: certificate.label,
        message: `${describe(certificate)} expired at ${notAfter.toISOString()}, ${duration(late)} ago`,
        fix: skew ? `${duration(late)} is within clock-skew range: if it was just issued, check this host's clock (timedatectl, chronyc tracking); otherwise ${renew}` : renew,
      });
    } else if (now.getTime() < notBefore.getTime()) {
      const early = notBefore.getTime() - now.getTime();
      const skew = early < CLOCK_SKEW_WINDOW_MS;
      findings.push({
        id: 'validity.not-yet-valid',
        severity: 'error',
        where: certificate.label,
        message: `${describe(certificate)} is not valid before ${notBefore.toISOString()}, ${duration(early)} from now`,
        fix: skew
          ? `${duration(early)} is within clock-skew range: this host's clock is probably behind the issuer's; sync both (timedatectl, chronyc tracking), or have the issuer backdate notBefore by a few seconds`
          : `check the clocks of this host and of the issuer, or ${renew}`,
      });
    }
  }
  return findings;
}

/**
 * The certificate that ends the chain's validity first, when that is close: within 24 h, or
 * within the last quarter of its lifetime for certificates that live less than four days. A
 * one-hour SVID always expires "within 24 h"; it is a problem only once its agent should have
 * replaced it (meshid rotates at half-life), and flagging every fresh one would be noise.
 */
export function expiringSoonFinding(certificates: readonly ExaminedCertificate[], now: Date): Finding | undefined {
  const live = certificates.filter(({ facts }) => facts.notBefore.getTime() <= now.getTime() && now.getTime() <= facts.notAfter.getTime());
  const first = [...live].sort((a, b) => a.facts.notAfter.getTime() - b.facts.notAfter.getTime())[0];
  if (!first) return undefined;
  const { notBefore, notAfter } = first.facts;
  const remaining = notAfter.getTime() - now.getTime();
  const threshold = Math.min(DAY_MS, (notAfter.getTime() - notBefore.getTime()) / 4);
  if (remaining >= threshold) return undefined;
  return {
    id: 'validity.expiring-soon',
    severity: 'warning',
    where: first.label,
    message: `the chain stops being valid at ${notAfter.toISOString()}, in ${duration(remaining)}: ${describe(first)} expires first`,
    fix: renewal(first),
  };
}

function renewal(certificate: ExaminedCertificate): string {
  if (certificate.facts.basicConstraints?.ca === true) return `renew the CA certificate ${certificate.label} and re-issue what it signed`;
  return `renew the certificate (from meshid: run "meshid api fetch x509 --write DIR" again, or keep a sidecar that rewrites it on rotation)`;
}

/** "4 min 2 s", "3 h 5 min", "12 d 4 h": two units are enough to act on. */
export function duration(ms: number): string {
  const units: [string, number][] = [
    ['d', DAY_MS],
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1000],
  ];
  const parts: string[] = [];
  let rest = Math.max(0, Math.round(ms / 1000) * 1000);
  for (const [name, size] of units) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || (parts.length > 0 && parts.length < 2)) parts.push(`${count} ${name}`);
    if (parts.length === 2) break;
  }
  return parts.length ? parts.join(' ') : '0 s';
}
