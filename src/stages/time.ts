/**
 * Access log time `dd/Mon/yyyy:HH:mm:ss ±hhmm` (the text between the brackets) → epoch milliseconds UTC,
 * straight from bytes. The offset is always +0000 in real AWS data but is applied anyway (samples use
 * +0200 and -0500).
 */

const MS_PER_DAY = 86_400_000;

/** Month abbreviations packed as 3 bytes, Jan = index 0. */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].map(
  (m) => (m.charCodeAt(0) << 16) | (m.charCodeAt(1) << 8) | m.charCodeAt(2),
);

function digits(buf: Uint8Array, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return NaN;
    value = value * 10 + d;
  }
  return value;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Parses buf[s, e) as `06/Feb/2019:00:00:38 +0000`; NaN when it is anything else. */
export function parseLogTime(buf: Uint8Array, s: number, e: number): number {
  if (e - s !== 26) return NaN;
  if (
    buf[s + 2] !== 0x2f ||
    buf[s + 6] !== 0x2f ||
    buf[s + 11] !== 0x3a ||
    buf[s + 14] !== 0x3a ||
    buf[s + 17] !== 0x3a ||
    buf[s + 20] !== 0x20
  ) {
    return NaN;
  }
  const day = digits(buf, s, 2);
  const packed = (buf[s + 3]! << 16) | (buf[s + 4]! << 8) | buf[s + 5]!;
  const month = MONTHS.indexOf(packed) + 1;
  const year = digits(buf, s + 7, 4);
  const hour = digits(buf, s + 12, 2);
  const minute = digits(buf, s + 15, 2);
  const second = digits(buf, s + 18, 2);
  const sign = buf[s + 21] === 0x2b ? 1 : buf[s + 21] === 0x2d ? -1 : 0;
  const offsetHours = digits(buf, s + 22, 2);
  const offsetMinutes = digits(buf, s + 24, 2);
  if (month === 0 || sign === 0 || !(day >= 1 && day <= daysInMonth(year, month))) return NaN;
  if (!(hour < 24 && minute < 60 && second < 60 && offsetHours < 24 && offsetMinutes < 60)) return NaN;
  const local = daysFromCivil(year, month, day) * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000;
  return local - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
}

/** UTC day number (days since epoch) of an epoch-ms timestamp. */
export function utcDay(ms: number): number {
  return Math.floor(ms / MS_PER_DAY);
}

/** YYYY-MM-DD of a UTC day number. */
export function formatDay(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** UTC day number of a YYYY-MM-DD string, or NaN when it is not a real date. */
export function parseDay(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return NaN;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return NaN;
  return daysFromCivil(year, month, day);
}
