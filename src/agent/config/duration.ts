const UNITS = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
] as const;
const UNIT_MS = new Map<string, number>(UNITS);
const UNIT_RANK = new Map<string, number>(UNITS.map(([unit], rank) => [unit, rank]));

/**
 * Parses Go-style durations ("30s", "10m", "1h30m", "500ms", "1.5h", "7d") into milliseconds.
 * Units must appear from largest to smallest, each at most once, with no spaces or signs, so
 * typos such as "1h 30m", "30m1h", "10" or "-5s" are rejected instead of guessed at.
 * Returns undefined for anything else.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/.test(trimmed)) return undefined;
  let total = 0;
  let lastRank = -1;
  for (const [, amount, unit = ''] of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    const rank = UNIT_RANK.get(unit) ?? -1;
    if (rank <= lastRank) return undefined;
    lastRank = rank;
    total += Number(amount) * (UNIT_MS.get(unit) ?? Number.NaN);
  }
  const ms = Math.round(total);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** The shortest exact spelling of `ms`: 3_600_000 → "1h", 5_400_000 → "90m", 1_500 → "1500ms". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  for (const [unit, size] of UNITS) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
