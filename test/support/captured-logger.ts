import pino, { type Logger } from 'pino';

export interface CapturedLog {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A debug-level pino logger whose records land in `records`, for asserting on logged reasons. */
export function capturedLogger(): { logger: Logger; records: CapturedLog[] } {
  const records: CapturedLog[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void records.push(JSON.parse(line) as CapturedLog) });
  return { logger, records };
}
