/**
 * When one JWT signing key is published, signs, and may be trusted until. Pure, so the rotation
 * rules are testable without timers.
 *
 * A key is published in the bundle `prepublishMs` before it signs, so relying parties that
 * cache the bundle learn it before they meet a token it signed. It signs for `keyTtlMs`, and
 * its successor is published `prepublishMs` before that period ends. It leaves the bundle once
 * it no longer signs and the last token it signed has expired (see retirementTime).
 */
export interface JwtKeyScheduleOptions {
  readonly keyTtlMs: number;
  readonly prepublishMs: number;
  readonly jwtTtlMs: number;
}

export interface JwtKeyTimes {
  readonly publishedAtMs: number;
  readonly signsFromMs: number;
  /** When the successor is due to take over (it may be later if generating it was late). */
  readonly signsUntilMs: number;
  readonly successorPublishAtMs: number;
  /**
   * No token signed by this key expires later. It binds only when the successor is late:
   * a key never goes on vouching for identities indefinitely because rotation stalled.
   */
  readonly notAfterMs: number;
}

/** The default prepublish period: one sixth of the signing period. */
export function defaultPrepublishMs(keyTtlMs: number): number {
  return Math.round(keyTtlMs / 6);
}

/** `first`: the agent's first key signs at once, since no relying party can hold an older bundle. */
export function jwtKeyTimes(publishedAtMs: number, options: JwtKeyScheduleOptions, first: boolean): JwtKeyTimes {
  const signsFromMs = first ? publishedAtMs : publishedAtMs + options.prepublishMs;
  const signsUntilMs = signsFromMs + options.keyTtlMs;
  return {
    publishedAtMs,
    signsFromMs,
    signsUntilMs,
    successorPublishAtMs: signsUntilMs - options.prepublishMs,
    notAfterMs: signsUntilMs + options.jwtTtlMs,
  };
}

/** A key that stopped signing leaves the bundle when the last token it signed has expired. */
export function retirementTime(stoppedSigningAtMs: number, lastExpiresAtMs: number | undefined): number {
  return Math.max(stoppedSigningAtMs, lastExpiresAtMs ?? stoppedSigningAtMs);
}

/** Expiry of a token signed at `nowMs`, in whole seconds (JWT NumericDate), capped by the key. */
export function tokenExpirySeconds(nowMs: number, jwtTtlMs: number, keyNotAfterMs: number): number {
  return Math.floor(Math.min(nowMs + jwtTtlMs, keyNotAfterMs) / 1000);
}
