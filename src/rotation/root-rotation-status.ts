import { X509Certificate } from 'node:crypto';

/**
 * The phases of a root rotation, in order. `publishing`: bundles carry the old and new roots,
 * the agent waits for them to reach every relying party; `switched`: the node intermediate is
 * signed by the new upstream, bundles still carry both, the agent waits for the last leaf under
 * the old root to expire; then the old roots are dropped and the phase is `idle` again.
 */
export const ROTATION_PHASES = ['idle', 'publishing', 'switched'] as const;
export type RotationPhase = (typeof ROTATION_PHASES)[number];

/**
 * What started a rotation: `meshid ca rotate` (admin HTTP), the upstream files changing, or a
 * restart finding a rotation that had switched but not yet dropped the old roots.
 */
export type RotationTrigger = 'admin' | 'files-changed' | 'resumed';

/** A root as shown to operators: enough to tell roots apart, nothing secret. */
export interface RootSummary {
  readonly subject: string;
  readonly sha256: string;
  readonly notAfter: string;
}

/** GET /ca/rotation's body. Times are ISO 8601; absent fields do not apply to the phase. */
export interface RotationStatus {
  readonly phase: RotationPhase;
  readonly phaseSince: string;
  readonly bundleVersion: number;
  readonly completedRotations: number;
  readonly trigger?: RotationTrigger;
  readonly startedAt?: string;
  readonly oldRoots?: readonly RootSummary[];
  readonly newRoots?: readonly RootSummary[];
  /** publishing: the switch waits at least until then (the propagation delay)… */
  readonly switchNotBefore?: string;
  /** …and for these SDS streams to ACK the new bundle, but never past this. */
  readonly switchDeadline?: string;
  readonly waitingForAcks?: readonly string[];
  /** switched: when the last leaf under the old roots expires and they leave the bundles. */
  readonly dropAt?: string;
  /** Why the last attempt did not start or did not finish, if it did not. */
  readonly lastError?: string;
}

export function summarizeRoot(der: Buffer): RootSummary {
  const certificate = new X509Certificate(der);
  return { subject: certificate.subject.replace(/\n/g, ', '), sha256: certificate.fingerprint256, notAfter: new Date(certificate.validTo).toISOString() };
}

export const isoTime = (ms: number): string => new Date(ms).toISOString();
