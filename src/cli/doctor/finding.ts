/**
 * What `meshid doctor` reports. A finding names one problem, how bad it is, and the concrete
 * step that removes it; ids are stable so scripts and tests can match on them.
 */
export type Severity = 'error' | 'warning';

export interface Finding {
  /** Stable identifier, e.g. "chain.untrusted" or "svid.leaf-ca". */
  readonly id: string;
  readonly severity: Severity;
  readonly message: string;
  /** The concrete step that removes the problem. */
  readonly fix: string;
  /** The certificate at fault ("leaf", "chain #2", "bundle #1", "key"), when it is one. */
  readonly where?: string;
  /** The spec section a conformance finding enforces, e.g. "X509-SVID §4.3". */
  readonly rule?: string;
}

export const hasErrors = (findings: readonly Finding[]): boolean => findings.some((finding) => finding.severity === 'error');
