import type { DoctorReport } from './diagnose';

/** The human-readable report: what was examined, then each finding with its fix. */
export function renderText(report: DoctorReport): string {
  const { subject, findings } = report;
  const lines: string[] = [`meshid doctor: ${subject.source}`];
  if (subject.subject !== null) {
    lines.push(
      `  SPIFFE ID   ${subject.spiffeId ?? '(none)'}`,
      ...(subject.dnsNames.length ? [`  DNS names   ${subject.dnsNames.join(', ')}`] : []),
      `  subject     ${subject.subject}`,
      `  key         ${subject.publicKey ?? '?'}`,
      `  valid       ${subject.notBefore ?? '?'} → ${subject.notAfter ?? '?'}`,
      `  trust       ${subject.trust}${subject.trust === 'not checked' ? ' (no --bundle)' : ''}`,
      `  path        ${subject.chain.map((certificate) => `${certificate.label} ${certificate.subject}`).join('\n              ↑ ')}`,
    );
  }
  lines.push('');
  for (const finding of findings) {
    const mark = finding.severity === 'error' ? 'ERROR  ' : 'WARNING';
    lines.push(`${mark} ${finding.id}${finding.rule ? ` [${finding.rule}]` : ''}`, `        ${finding.message}`, `  fix:  ${finding.fix}`, '');
  }
  const errors = findings.filter((finding) => finding.severity === 'error').length;
  const warnings = findings.length - errors;
  lines.push(findings.length === 0 ? 'No problems found.' : `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}.`);
  return lines.join('\n');
}
