import { TAG } from './der';
import { contentOf, type Element } from './der-reader';

/**
 * X.509 Time (RFC 5280 §4.1.2.5): UTCTime YYMMDDHHMMSSZ for years 1950–2049, GeneralizedTime
 * YYYYMMDDHHMMSSZ otherwise; always UTC, whole seconds (§4.1.2.5.1/.2 forbid fractions).
 * Written digit by digit into the target: this runs twice per mint.
 */
export function timeLength(date: Date): number {
  const year = checkedYear(date);
  return year >= 1950 && year < 2050 ? 15 : 17;
}

/** Writes the Time TLV for `date` (seconds truncated) at `offset`; returns the end offset. */
export function writeTime(target: Buffer, offset: number, date: Date): number {
  const year = checkedYear(date);
  if (year >= 1950 && year < 2050) {
    target[offset++] = TAG.UTC_TIME;
    target[offset++] = 13;
    offset = writeTwoDigits(target, offset, year % 100);
  } else {
    target[offset++] = TAG.GENERALIZED_TIME;
    target[offset++] = 15;
    offset = writeTwoDigits(target, offset, Math.floor(year / 100));
    offset = writeTwoDigits(target, offset, year % 100);
  }
  offset = writeTwoDigits(target, offset, date.getUTCMonth() + 1);
  offset = writeTwoDigits(target, offset, date.getUTCDate());
  offset = writeTwoDigits(target, offset, date.getUTCHours());
  offset = writeTwoDigits(target, offset, date.getUTCMinutes());
  offset = writeTwoDigits(target, offset, date.getUTCSeconds());
  target[offset++] = 0x5a; // 'Z'
  return offset;
}

export function encodeTime(date: Date): Buffer {
  const out = Buffer.allocUnsafe(timeLength(date));
  writeTime(out, 0, date);
  return out;
}

/** The instant a certificate will actually carry: X.509 Time has no fractional seconds. */
export function truncateToSecond(date: Date): Date {
  return new Date(date.getTime() - (((date.getTime() % 1000) + 1000) % 1000));
}

export function parseTime(bytes: Buffer, element: Element): Date {
  const text = contentOf(bytes, element).toString('latin1');
  const full = element.tag === TAG.UTC_TIME ? `${Number(text.slice(0, 2)) < 50 ? '20' : '19'}${text}` : text;
  if (!/^\d{14}Z$/.test(full)) throw new Error(`DER: unsupported Time "${text}"`);
  return new Date(Date.UTC(+full.slice(0, 4), +full.slice(4, 6) - 1, +full.slice(6, 8), +full.slice(8, 10), +full.slice(10, 12), +full.slice(12, 14)));
}

function checkedYear(date: Date): number {
  const year = date.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) throw new RangeError(`certificate time out of range: ${String(date)}`);
  return year;
}

function writeTwoDigits(target: Buffer, offset: number, value: number): number {
  target[offset] = 0x30 + Math.floor(value / 10);
  target[offset + 1] = 0x30 + (value % 10);
  return offset + 2;
}
