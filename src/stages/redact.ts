/**
 * redact (--redact presigned,ip): removes secrets and personal data from rows before they are encoded.
 * Off by default (fidelity); when off, nothing here runs.
 *
 * presigned: the VALUES of the query parameters that authenticate a presigned URL — X-Amz-Credential,
 *   X-Amz-Signature, X-Amz-Security-Token (SigV4) and AWSAccessKeyId, Signature, x-amz-security-token
 *   (SigV2) — become REDACTED; names, order and every other byte stay. Names match case-insensitively,
 *   after `?`, `&`, `%3F` or `%26` and before `=` or `%3D` (a presigned URL nested URL-encoded in another
 *   parameter counts; doubly encoded forms do not). A value ends at `&`, `%26`, a space, `#` or `"`.
 *   Columns: request_uri (after its first `?`), request_query (derived from it) and referrer (a page
 *   opened through a presigned URL sends it as Referer). request_path stops before the `?`; key and
 *   key_decoded are the object key S3 logged, which never holds the request's query. Rejected lines
 *   (raw text and detail) get the same treatment, anywhere after a separator.
 * ip: remoteip keeps its network: IPv4 /24 (a.b.c.0), IPv6 /48 (RFC 5952 text of the prefix, `a:b:c::`),
 *   IPv4-mapped IPv6 as IPv4 /24 (::ffff:a.b.c.0). Text that is neither is left as it is.
 *
 * Everything works on bytes: a string column's UTF-8 data and offsets after the batch is built (one
 * pass of native indexOf from one candidate value to the next, new buffers only when something
 * changes), or a line.
 */
import { ACCESS_LOG_COLUMNS } from '../../schemas/accessLog.js';

export type RedactMode = 'ip' | 'presigned';

/** Every mode, sorted: the order manifests, catalogs and summaries list them in. */
export const REDACT_MODES: readonly RedactMode[] = ['ip', 'presigned'];

/** What a redacted parameter value becomes. */
export const REDACTED = 'REDACTED';
const MARKER = Buffer.from(REDACTED, 'latin1');

/** Sorted, without duplicates; [] for none. */
export function normalizeRedact(modes: readonly string[] | undefined): RedactMode[] {
  return REDACT_MODES.filter((m) => modes?.includes(m));
}

export function sameRedact(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return redactLabel(a) === redactLabel(b);
}

/** `none`, `ip`, `presigned` or `ip,presigned`: how catalogs and messages spell a setting. */
export function redactLabel(modes: readonly string[] | undefined): string {
  const sorted = normalizeRedact(modes);
  return sorted.length === 0 ? 'none' : sorted.join(',');
}

/** The modes a catalog property (`redactLabel`) names; unknown words are dropped. */
export function parseRedactLabel(label: string | undefined): RedactMode[] {
  return normalizeRedact((label ?? '').split(','));
}

/** The modes both settings apply: what holds for every row written under either. */
export function intersectRedact(a: readonly string[] | undefined, b: readonly string[] | undefined): RedactMode[] {
  const other = normalizeRedact(b);
  return normalizeRedact(a).filter((m) => other.includes(m));
}

// ── string columns ──────────────────────────────────────────────────────────────────────────────

/** A string column in Arrow layout: value i is data[offsets[i], offsets[i + 1]). Null values are empty. */
export interface Utf8Buffers {
  data: Uint8Array;
  offsets: Int32Array;
  /** Bytes of data in use. */
  bytes: number;
  length: number;
}

/** How a column's values hold a query: all of it (request_query), or after the first `?` (a URL or request line). */
export type QueryShape = 'query' | 'url';

const QMARK = 0x3f;
const AMP = 0x26;
const EQ = 0x3d;
const PCT = 0x25;
const SP = 0x20;
const HASH = 0x23;
const QUOTE = 0x22;

/** Lower-case ASCII names; matched case-insensitively. */
const SECRET_NAMES = ['x-amz-credential', 'x-amz-signature', 'x-amz-security-token', 'awsaccesskeyid', 'signature'].map((n) =>
  Buffer.from(n, 'latin1'),
);
const NAME_LENGTHS = [...new Set(SECRET_NAMES.map((n) => n.length))];

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/** `%XY` at i, X and Y given as upper-case hex digits. */
function isEscape(buf: Uint8Array, i: number, end: number, x: number, y: number): boolean {
  return i + 2 < end && buf[i] === PCT && buf[i + 1] === x && (buf[i + 2] === y || buf[i + 2] === (y | 0x20));
}

/** Whether a parameter name may start at b: right after a separator, or at the start of a query value. */
function nameBoundary(buf: Uint8Array, b: number, regionStart: number, startIsBoundary: boolean): boolean {
  if (b === regionStart) return startIsBoundary;
  if (b < regionStart) return false;
  const c = buf[b - 1];
  if (c === AMP || c === QMARK) return true;
  // %26 (&) or %3F (?): a URL nested in another parameter's value.
  return (
    b - 3 >= regionStart &&
    buf[b - 3] === PCT &&
    ((buf[b - 2] === 0x32 && buf[b - 1] === 0x36) || (buf[b - 2] === 0x33 && lower(buf[b - 1]!) === 0x66))
  );
}

/** A secret parameter name ends right before `sep` (and starts at a boundary). */
function secretNameBefore(buf: Uint8Array, sep: number, regionStart: number, startIsBoundary: boolean): boolean {
  for (const length of NAME_LENGTHS) {
    const b = sep - length;
    if (b < regionStart || !nameBoundary(buf, b, regionStart, startIsBoundary)) continue;
    for (const name of SECRET_NAMES) {
      if (name.length !== length) continue;
      let i = 0;
      while (i < length && lower(buf[b + i]!) === name[i]) i++;
      if (i === length) return true;
    }
  }
  return false;
}

/** Bytes a scan stops at: 1 = `=` or `%` (a separator may start), 2 = a value's end (`&`, space, `#`, `"`), 3 = `%`. */
const CLASS = new Uint8Array(256);
CLASS[EQ] = 1;
CLASS[AMP] = CLASS[SP] = CLASS[HASH] = CLASS[QUOTE] = 2;
CLASS[PCT] = 3;

/** End of a parameter value starting at v: the first `&`, `%26`, space, `#` or `"`, or `end`. */
function valueEnd(buf: Uint8Array, v: number, end: number): number {
  for (let i = v; i < end; i++) {
    const k = CLASS[buf[i]!]!;
    if (k < 2) continue;
    if (k === 2 || isEscape(buf, i, end, 0x32, 0x36)) return i;
  }
  return end;
}

function isMarker(buf: Uint8Array, s: number, e: number): boolean {
  if (e - s !== MARKER.length) return false;
  for (let i = 0; i < MARKER.length; i++) if (buf[s + i] !== MARKER[i]) return false;
  return true;
}

/**
 * Appends the [start, end) ranges of secret values within [s, e) to `out` (in order). `startIsBoundary`:
 * a name may begin at s (a query value); otherwise only after a separator.
 */
export function findSecretValues(buf: Uint8Array, s: number, e: number, startIsBoundary: boolean, out: number[]): void {
  // A plain loop over the region: a query is short, and an unbounded indexOf would run on into the next values.
  for (let sep = s; sep < e; sep++) {
    const k = CLASS[buf[sep]!]!;
    if (k === 0 || k === 2) continue;
    let sepLength: number;
    if (k === 1) sepLength = 1;
    else if (isEscape(buf, sep, e, 0x33, 0x44)) sepLength = 3;
    else continue;
    if (!secretNameBefore(buf, sep, s, startIsBoundary)) {
      sep += sepLength - 1;
      continue;
    }
    const v = sep + sepLength;
    const ve = valueEnd(buf, v, e);
    if (ve > v && !isMarker(buf, v, ve)) out.push(v, ve);
    sep = ve - 1;
  }
}

/** Index of the value holding byte p (offsets[i] <= p < offsets[i + 1]), searching from `from`. */
function valueAt(offsets: Int32Array, length: number, p: number, from: number): number {
  let lo = from;
  let hi = length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid]! <= p) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Redacts presigned-URL secrets in a string column, in place of its buffers; returns how many values
 * changed. Values without a candidate are never looked at one by one: the scan jumps from one `?`
 * (shape url) or `=`/`%` (shape query) of the column data to the next.
 */
export function redactPresignedColumn(col: Utf8Buffers, shape: QueryShape): number {
  const { data, offsets, length } = col;
  const total = col.bytes;
  const ranges: number[] = [];
  let changed = 0;
  let v = 0;
  let pos = 0;
  // Native scans for the bytes that can start a candidate, each reused until passed.
  let nextA = -2;
  let nextB = -2;
  const a = shape === 'url' ? QMARK : EQ;
  const b = shape === 'url' ? QMARK : PCT;
  while (pos < total && v < length) {
    if (nextA !== -1 && nextA < pos) nextA = data.indexOf(a, pos);
    if (nextB !== -1 && nextB < pos) nextB = a === b ? nextA : data.indexOf(b, pos);
    const next = nextA === -1 ? nextB : nextB === -1 ? nextA : Math.min(nextA, nextB);
    if (next === -1 || next >= total) break;
    v = valueAt(offsets, length, next, v);
    const end = offsets[v + 1]!;
    const before = ranges.length;
    // In a URL the query starts after the first `?` (and a request line's ends at the protocol's space).
    if (shape === 'url') findSecretValues(data, next + 1, end, true, ranges);
    else findSecretValues(data, offsets[v]!, end, true, ranges);
    if (ranges.length > before) changed++;
    pos = end;
    v++;
  }
  if (ranges.length > 0) replaceRanges(col, ranges);
  return changed;
}

/** Replaces the sorted byte ranges of col's data by the marker, moving offsets by what each value gained or lost. */
function replaceRanges(col: Utf8Buffers, ranges: readonly number[]): void {
  const { data, offsets, length } = col;
  let grow = 0;
  for (let r = 0; r < ranges.length; r += 2) grow += MARKER.length - (ranges[r + 1]! - ranges[r]!);
  const out = new Uint8Array(Math.max(1, col.bytes + grow));
  const newOffsets = new Int32Array(offsets.length);
  let w = 0;
  let read = 0;
  let r = 0;
  let delta = 0;
  for (let i = 0; i <= length; i++) {
    const o = offsets[i]!;
    // Ranges lie inside values: every range before this offset is applied before the offset moves.
    while (r < ranges.length && ranges[r]! < o) {
      const s = ranges[r]!;
      const e = ranges[r + 1]!;
      out.set(data.subarray(read, s), w);
      w += s - read;
      out.set(MARKER, w);
      w += MARKER.length;
      read = e;
      delta += MARKER.length - (e - s);
      r += 2;
    }
    newOffsets[i] = o + delta;
  }
  out.set(data.subarray(read, col.bytes), w);
  col.data = out;
  col.offsets = newOffsets;
  col.bytes += grow;
}

/** Redacts presigned-URL secrets anywhere after a separator in text bytes (a rejected line); the same array when nothing changes. */
export function redactPresignedText(bytes: Uint8Array): Uint8Array {
  const ranges: number[] = [];
  findSecretValues(bytes, 0, bytes.length, false, ranges);
  if (ranges.length === 0) return bytes;
  const col: Utf8Buffers = { data: bytes, offsets: Int32Array.of(0, bytes.length), bytes: bytes.length, length: 1 };
  replaceRanges(col, ranges);
  return col.data.subarray(0, col.bytes);
}

// ── remote IP ───────────────────────────────────────────────────────────────────────────────────

/** Truncates every IP address of a string column (IPv4 /24, IPv6 /48); returns how many values changed. */
export function truncateIpColumn(col: Utf8Buffers): number {
  const { data, offsets, length } = col;
  let out = new Uint8Array(col.bytes + 64);
  const newOffsets = new Int32Array(length + 1);
  let w = 0;
  let changed = 0;
  const scratch = new Uint8Array(64);
  for (let i = 0; i < length; i++) {
    const s = offsets[i]!;
    const e = offsets[i + 1]!;
    newOffsets[i] = w;
    const n = e === s ? -1 : truncateIp(data, s, e, scratch);
    const size = n < 0 ? e - s : n;
    if (w + size > out.length) {
      const bigger = new Uint8Array((w + size) * 2);
      bigger.set(out.subarray(0, w));
      out = bigger;
    }
    if (n < 0) out.set(data.subarray(s, e), w);
    else {
      out.set(scratch.subarray(0, n), w);
      changed++;
    }
    w += size;
  }
  newOffsets[length] = w;
  if (changed === 0) return 0;
  col.data = out;
  col.offsets = newOffsets;
  col.bytes = w;
  return changed;
}

/**
 * The truncated address of buf[s, e) written into out (at least 24 bytes; length returned), or -1 when
 * the text is no IP address or already truncated.
 */
export function truncateIp(buf: Uint8Array, s: number, e: number, out: Uint8Array): number {
  if (e - s > 45) return -1;
  let colon = false;
  for (let i = s; i < e; i++) if (buf[i] === 0x3a) colon = true;
  return colon ? truncateIpv6(buf, s, e, out) : truncateIpv4(buf, s, e, out);
}

/** a.b.c.d → a.b.c.0 (decimal octets 0-255, no leading zeros); -1 when not IPv4 or unchanged. */
function truncateIpv4(buf: Uint8Array, s: number, e: number, out: Uint8Array): number {
  if (!parseIpv4(buf, s, e) || OCTETS[3] === 0) return -1;
  // The first three octets stay as written (they are canonical: parseIpv4 refuses leading zeros).
  let n = e - s;
  while (buf[s + n - 1] !== 0x2e) n--;
  for (let i = 0; i < n; i++) out[i] = buf[s + i]!;
  out[n] = 0x30;
  return n + 1;
}

/** Octets of the last parseIpv4 (one array for every value: this runs once per row). */
const OCTETS = new Int32Array(4);

/** Parses buf[s, e) as dotted IPv4 into OCTETS; false when it is not one. */
function parseIpv4(buf: Uint8Array, s: number, e: number): boolean {
  let i = s;
  for (let k = 0; k < 4; k++) {
    const start = i;
    let value = 0;
    while (i < e && buf[i]! >= 0x30 && buf[i]! <= 0x39 && i - start < 3) value = value * 10 + buf[i++]! - 0x30;
    if (i === start || value > 255 || (i - start > 1 && buf[start] === 0x30)) return false;
    OCTETS[k] = value;
    if (k < 3) {
      if (i >= e || buf[i] !== 0x2e) return false;
      i++;
    }
  }
  return i === e;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x57 : -1;
}

/** IPv6 text → /48; IPv4-mapped (::ffff:a.b.c.d) → ::ffff:a.b.c.0. -1 when not IPv6 or unchanged. */
function truncateIpv6(buf: Uint8Array, s: number, e: number, out: Uint8Array): number {
  const groups: number[] = [];
  let gap = -1;
  let i = s;
  let v4 = false;
  if (buf[i] === 0x3a) {
    if (buf[i + 1] !== 0x3a) return -1;
    gap = 0;
    i += 2;
  }
  while (i < e) {
    const start = i;
    let value = 0;
    while (i < e && hexDigit(buf[i]!) >= 0 && i - start < 4) value = (value << 4) | hexDigit(buf[i++]!);
    if (i < e && buf[i] === 0x2e) {
      // Dotted IPv4 tail: only as the last 32 bits.
      if (!parseIpv4(buf, start, e)) return -1;
      v4 = true;
      groups.push((OCTETS[0]! << 8) | OCTETS[1]!, (OCTETS[2]! << 8) | OCTETS[3]!);
      i = e;
      break;
    }
    if (i === start) return -1;
    groups.push(value);
    if (i === e) break;
    if (buf[i] !== 0x3a) return -1;
    i++;
    if (buf[i] === 0x3a) {
      if (gap !== -1) return -1;
      gap = groups.length;
      i++;
      if (i === e) break;
    } else if (i === e) return -1;
  }
  if (gap === -1 ? groups.length !== 8 : groups.length > 7) return -1;
  const full = gap === -1 ? groups : [...groups.slice(0, gap), ...new Array<number>(8 - groups.length).fill(0), ...groups.slice(gap)];
  let text: string;
  if (full.slice(0, 5).every((g) => g === 0) && full[5] === 0xffff) {
    // An IPv4 client seen through a dual-stack socket: keep its /24, as for IPv4, in the form it came in.
    text = v4
      ? `::ffff:${full[6]! >> 8}.${full[6]! & 0xff}.${full[7]! >> 8}.0`
      : canonicalIpv6([0, 0, 0, 0, 0, 0xffff, full[6]!, full[7]! & 0xff00]);
  } else {
    text = canonicalIpv6([full[0]!, full[1]!, full[2]!, 0, 0, 0, 0, 0]);
  }
  let same = text.length === e - s;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (same && buf[s + k] !== c) same = false;
    out[k] = c;
  }
  return same ? -1 : text.length;
}

/** RFC 5952: lower-case hex, no leading zeros, the longest run (2+) of zero groups as `::` (the first on a tie). */
export function canonicalIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

// ── the hooks ───────────────────────────────────────────────────────────────────────────────────

function columnIndex(name: string): number {
  const index = ACCESS_LOG_COLUMNS.findIndex((c) => c.name === name);
  if (index < 0) throw new Error(`schema has no column ${name}`);
  return index;
}

/** A batch's columns are in schema order (build.ts). */
const COL_REMOTEIP = columnIndex('remoteip');
const COL_REQUEST_URI = columnIndex('request_uri');
const COL_REQUEST_QUERY = columnIndex('request_query');
const COL_REFERRER = columnIndex('referrer');

/** What a run applies: built once from --redact, undefined when off (then no hook runs at all). */
export class Redactor {
  readonly modes: readonly RedactMode[];
  private readonly presigned: boolean;
  private readonly ip: boolean;
  /** Values changed so far (run summary and benchmarks). */
  readonly counts = { presignedValues: 0, ips: 0, rejectLines: 0 };

  constructor(modes: readonly RedactMode[]) {
    this.modes = normalizeRedact(modes);
    this.presigned = this.modes.includes('presigned');
    this.ip = this.modes.includes('ip');
  }

  /** Redacts a built batch's string columns (schema order) in place, before it is encoded. */
  redactColumns(columns: readonly unknown[]): void {
    const utf8 = (index: number) => columns[index] as Utf8Buffers;
    if (this.presigned) {
      this.counts.presignedValues += redactPresignedColumn(utf8(COL_REQUEST_URI), 'url');
      this.counts.presignedValues += redactPresignedColumn(utf8(COL_REQUEST_QUERY), 'query');
      this.counts.presignedValues += redactPresignedColumn(utf8(COL_REFERRER), 'url');
    }
    if (this.ip) this.counts.ips += truncateIpColumn(utf8(COL_REMOTEIP));
  }

  /** A rejected line's raw bytes and detail, presigned secrets redacted (IPs: a reject's fields are not known). */
  redactReject(raw: Uint8Array, detail: string): { raw: Uint8Array; detail: string } {
    if (!this.presigned) return { raw, detail };
    const out = redactPresignedText(raw);
    const detailBytes = Buffer.from(detail);
    const redactedDetail = redactPresignedText(detailBytes);
    if (out !== raw || redactedDetail !== detailBytes) this.counts.rejectLines++;
    return { raw: out, detail: redactedDetail === detailBytes ? detail : Buffer.from(redactedDetail).toString('utf8') };
  }
}
