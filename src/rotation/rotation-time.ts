/**
 * When a certificate should be replaced: once it has used half its lifetime, moved by up to ±10 %
 * so that certificates minted together (agent start, CA rotation) do not all rotate together
 * (SPIRE's rotationutil does the same). `jitter` is in [-1, 1]; callers draw it at mint time so
 * the decision is a pure function and testable with a fake clock.
 */
export const ROTATION_JITTER_FRACTION = 0.1;

export function rotationTime(notBeforeMs: number, notAfterMs: number, jitter: number): number {
  const lifetime = notAfterMs - notBeforeMs;
  const clamped = Math.max(-1, Math.min(1, jitter));
  return notBeforeMs + lifetime * (0.5 + clamped * ROTATION_JITTER_FRACTION);
}

export function shouldRotate(nowMs: number, notBeforeMs: number, notAfterMs: number, jitter: number): boolean {
  return nowMs >= rotationTime(notBeforeMs, notAfterMs, jitter);
}

/** A uniform draw in [-1, 1]. */
export function drawJitter(random: () => number = Math.random): number {
  return random() * 2 - 1;
}
