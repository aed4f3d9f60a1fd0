/**
 * parse: raw log object bytes → per-line field spans (byte offsets) + reject records.
 *
 * Works on the object's bytes; no per-line strings. A line is tokenised left to right (FORMAT.md §8):
 * the bracketed time takes two space tokens, quoted fields end at a `"` followed by a space or the end of
 * the line, and when a quoted field holds raw quotes, the candidate end that leaves a valid tail wins
 * (first under strict checks of the enum fields, then under loose checks). Every line becomes exactly
 * one row (sink.row) or one reject (sink.reject). A line that holds the start of a second record (a
 * truncated record glued to the next one by a lost newline, EDGE_CASES.md #20) is rejected as
 * `embedded_record`, never loaded: see findRecordStart for what counts and where it is looked for.
 */
import { isUtf8 } from 'node:buffer';
import { ACCESS_LOG_COLUMNS, KNOWN_FIELD_COUNT, MIN_FIELD_COUNT, type ColumnName } from '../../schemas/accessLog.js';
import { hasByte, repeated } from './bytes.js';
import { parseLogTime } from './time.js';

const SP = 0x20;
const QUOTE = 0x22;
const DASH = 0x2d;
const LF = 0x0a;
const CR = 0x0d;
const TAB = 0x09;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
/** Bytes of a canonical user ID (the Bucket Owner of every real record): 64 lower-case hex digits. */
const OWNER_HEX = 64;

// ── The per-slot syntax, built once from the schema (schemas/accessLog.ts) ─────────────────────────
// Slot i holds the field at position i + 1; the tokeniser switches on these small codes per field.

// biome-ignore lint/suspicious/noConstEnum: module-private, inlined by tsc on the hot path (no enum object lookups)
const enum Syntax {
  Token = 0,
  Quoted = 1,
  Time = 2,
  Integer = 3,
  Acl = 4,
}

// biome-ignore lint/suspicious/noConstEnum: module-private, inlined by tsc on the hot path (no enum object lookups)
const enum Shape {
  Any = 0,
  Sigv = 1,
  AuthType = 2,
  Tls = 3,
}

// biome-ignore lint/suspicious/noConstEnum: module-private, inlined by tsc on the hot path (no enum object lookups)
const enum Spaces {
  None = 0,
  CloudFrontOai = 1,
  TwoTokens = 2,
}

type FieldColumn = Extract<(typeof ACCESS_LOG_COLUMNS)[number], { source: 'field' }>;

/** The log fields in record order; the schema must declare positions 1..KNOWN_FIELD_COUNT once each. */
export const FIELDS: readonly FieldColumn[] = (() => {
  const fields = ACCESS_LOG_COLUMNS.filter((c): c is FieldColumn => c.source === 'field').sort((a, b) => a.position - b.position);
  fields.forEach((f, slot) => {
    if (f.position !== slot + 1)
      throw new Error(`schema: field positions must run 1..${KNOWN_FIELD_COUNT} once each; ${f.name} is at ${f.position}`);
  });
  if (fields.length !== KNOWN_FIELD_COUNT)
    throw new Error(`schema declares ${fields.length} log fields, KNOWN_FIELD_COUNT is ${KNOWN_FIELD_COUNT}`);
  return fields;
})();

/** The 0-based slot of a log field column. */
export function slotOf(name: ColumnName): number {
  const slot = FIELDS.findIndex((f) => f.name === name);
  if (slot < 0) throw new Error(`schema has no log field ${name}`);
  return slot;
}

const SYNTAX = Int8Array.from(
  FIELDS,
  (f) => ({ token: Syntax.Token, quoted: Syntax.Quoted, time: Syntax.Time, integer: Syntax.Integer, acl: Syntax.Acl })[f.syntax],
);
/** Digits an integer field may hold: int32 fields 9, int64 fields 15 (safe integers). */
const MAX_DIGITS = Int8Array.from(FIELDS, (f) => (f.syntax !== 'integer' ? 0 : f.kind === 'int64' ? 15 : 9));
const SHAPE = Int8Array.from(FIELDS, (f) =>
  'shape' in f ? { sigv: Shape.Sigv, authtype: Shape.AuthType, tls: Shape.Tls }[f.shape] : Shape.Any,
);
const SPACES = Int8Array.from(FIELDS, (f) =>
  'spaces' in f ? { 'cloudfront-oai': Spaces.CloudFrontOai, 'two-tokens': Spaces.TwoTokens }[f.spaces] : Spaces.None,
);

function onlySlot(syntax: Syntax): number {
  const slots = [...SYNTAX.keys()].filter((slot) => SYNTAX[slot] === syntax);
  if (slots.length !== 1) throw new Error(`schema: exactly one log field must have syntax ${syntax}`);
  return slots[0]!;
}

const SLOT_TIME = onlySlot(Syntax.Time);
/** The record starts with the owner ID (what findRecordStart looks for). */
const SLOT_OWNER = slotOf('bucketowner');
if (SLOT_OWNER !== 0 || SLOT_TIME !== 2)
  throw new Error('schema: records start with the Bucket Owner, the Bucket and the Time (FORMAT.md §2)');
/** Raw quotes in a quoted field give several candidate ends; more than this is not a log line. */
const MAX_QUOTE_CANDIDATES = 16;

const OAI_REQUESTER = Buffer.from('arn:aws:iam::cloudfront:user/CloudFront');
const OAI_CONTINUATION = Buffer.from(' Origin Access Identity ');

export type RejectReason =
  | 'blank_line'
  | 'too_few_fields'
  | 'bad_time'
  | 'unterminated_quote'
  | 'bad_quoted_field'
  | 'bad_number'
  | 'bad_aclrequired'
  | 'embedded_record';

/** Field spans of one tokenised line; reused for every line of an object. */
export class LineSpans {
  /** Start/end byte offsets (end exclusive) per field slot 0..26; quoted fields exclude their quotes. */
  readonly start = new Int32Array(KNOWN_FIELD_COUNT);
  readonly end = new Int32Array(KNOWN_FIELD_COUNT);
  /** Number of fields in the record (may exceed 27). */
  count = 0;
  /** Raw text of fields after the 27th, or -1 when none. */
  extraStart = -1;
  extraEnd = -1;
  /** Fields after the 27th. */
  extraCount = 0;
  /** requestdatetime, epoch milliseconds UTC. */
  timeMs = 0;
  private buf: Uint8Array | undefined;
  private view: DataView = new DataView(new ArrayBuffer(0));

  /** A DataView of `buf` (made once per object): the fast path reads it four bytes at a time. */
  viewOf(buf: Uint8Array): DataView {
    if (buf !== this.buf) {
      this.buf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.view;
  }
}

const SPACES4 = repeated(SP);
const QUOTES4 = repeated(QUOTE);

export interface ParseSink {
  /** A valid record; spans index into `buf`. */
  row(buf: Uint8Array, spans: LineSpans, lineNumber: number): void;
  /** A line that is not a valid record; `raw` is the line without its line break. */
  reject(lineNumber: number, reason: RejectReason, detail: string, raw: Uint8Array): void;
}

export interface ParseCounts {
  lines: number;
  rows: number;
  rejects: number;
  /** Lines whose invalid UTF-8 sequences were replaced by U+FFFD before parsing. */
  repairedUtf8: number;
}

/**
 * Parses one whole log object. Lines are split on LF; a trailing CR and trailing blanks are ignored.
 * Ordinary lines take the fast path (scanOrdinary); `exactOnly` sends every line through the exact
 * parser (what the fast path is tested against).
 */
export function parseLogObject(bytes: Uint8Array, sink: ParseSink, spans = new LineSpans(), exactOnly = false): ParseCounts {
  const counts: ParseCounts = { lines: 0, rows: 0, rejects: 0, repairedUtf8: 0 };
  // Checking the whole object once is native and fast; only objects that fail pay per-line checks.
  const objectIsUtf8 = isUtf8(bytes);
  const n = bytes.length;
  let lineStart = 0;
  while (lineStart < n) {
    let lineEnd = bytes.indexOf(LF, lineStart);
    const next = lineEnd === -1 ? n : lineEnd + 1;
    if (lineEnd === -1) lineEnd = n;
    counts.lines++;
    let buf = bytes;
    let ls = lineStart;
    let le = lineEnd;
    if (!objectIsUtf8 && !isUtf8(bytes.subarray(ls, le))) {
      // Parquet strings must be UTF-8: replace invalid sequences (WHATWG rules) and keep the row.
      buf = Buffer.from(new TextDecoder('utf-8').decode(bytes.subarray(ls, le)));
      ls = 0;
      le = buf.length;
      counts.repairedUtf8++;
    }
    const ok = (!exactOnly && scanOrdinary(buf, ls, le, spans)) || parseLine(buf, ls, le, spans);
    if (ok === true) {
      sink.row(buf, spans, counts.lines);
      counts.rows++;
    } else {
      let rawEnd = lineEnd;
      if (rawEnd > lineStart && bytes[rawEnd - 1] === CR) rawEnd--;
      sink.reject(counts.lines, ok.reason, ok.detail, bytes.subarray(lineStart, rawEnd));
      counts.rejects++;
    }
    lineStart = next;
  }
  return counts;
}

/**
 * The fast path for ordinary lines: one token per field and single spaces, quoted values without raw
 * quotes, no CloudFront OAI requester or two-token Host Id, every field of its declared syntax and shape,
 * an owner ID no longer than 64 bytes. Such a line is tokenised in one pass, without backtracking or
 * building a reject, into the same spans parseLine gives it. Anything else returns false and parseLine
 * decides the line (test/parse.fastpath.test.ts checks both give the same columns on every corpus).
 */
export function scanOrdinary(buf: Uint8Array, ls: number, le: number, spans: LineSpans): boolean {
  while (le > ls && (buf[le - 1] === CR || buf[le - 1] === SP || buf[le - 1] === TAB)) le--;
  const start = spans.start;
  const end = spans.end;
  const view = spans.viewOf(buf);
  let pos = ls;
  for (let slot = 0; slot < KNOWN_FIELD_COUNT; slot++) {
    if (pos >= le) return false;
    const syntax = SYNTAX[slot]!;
    const c = buf[pos]!;
    if (syntax === Syntax.Quoted && c === QUOTE) {
      // The first quote after the opening one must end the value: a raw quote inside needs the exact parser.
      let q = pos + 1;
      const stop = le - 4;
      while (q + 4 <= stop && !hasByte(view.getInt32(q, true), QUOTES4) && !hasByte(view.getInt32(q + 4, true), QUOTES4)) q += 8;
      while (q <= stop && !hasByte(view.getInt32(q, true), QUOTES4)) q += 4;
      while (q < le && buf[q] !== QUOTE) q++;
      if (q >= le || (q + 1 < le && buf[q + 1] !== SP)) return false;
      start[slot] = pos + 1;
      end[slot] = q;
      pos = q + 1;
    } else if (syntax === Syntax.Time) {
      if (c !== LBRACKET || pos + 28 >= le || buf[pos + 27] !== RBRACKET || buf[pos + 28] !== SP) return false;
      const timeMs = parseLogTime(buf, pos + 1, pos + 27);
      if (Number.isNaN(timeMs)) return false;
      spans.timeMs = timeMs;
      start[slot] = pos + 1;
      end[slot] = pos + 27;
      pos += 28;
    } else {
      let e = pos;
      const stop = le - 4;
      while (e + 4 <= stop && !hasByte(view.getInt32(e, true), SPACES4) && !hasByte(view.getInt32(e + 4, true), SPACES4)) e += 8;
      while (e <= stop && !hasByte(view.getInt32(e, true), SPACES4)) e += 4;
      while (e < le && buf[e] !== SP) e++;
      const len = e - pos;
      // An empty field (two spaces) is not ordinary.
      if (len === 0) return false;
      const dash = len === 1 && c === DASH;
      switch (syntax) {
        case Syntax.Quoted:
          if (!dash) return false;
          break;
        case Syntax.Integer:
          if (dash) break;
          if (len > MAX_DIGITS[slot]!) return false;
          for (let i = pos; i < e; i++) {
            const d = buf[i]!;
            if (d < 0x30 || d > 0x39) return false;
          }
          break;
        case Syntax.Acl:
          if (!dash && !isWord(buf, pos, e, 'Yes')) return false;
          break;
        default: {
          if (SPACES[slot] === Spaces.CloudFrontOai && len === OAI_REQUESTER.length && bytesEqual(buf, pos, OAI_REQUESTER)) return false;
          // A two-token Host Id fails the sigv shape of the next field and goes to the exact parser.
          const shape = SHAPE[slot]!;
          if (shape === Shape.Sigv && !isSigv(buf, pos, e)) return false;
          if (shape === Shape.AuthType && !(dash || isWord(buf, pos, e, 'AuthHeader') || isWord(buf, pos, e, 'QueryString'))) return false;
          if (
            shape === Shape.Tls &&
            !(dash || (len >= 4 && (c === 0x54 || c === 0x74) && (buf[pos + 1] === 0x4c || buf[pos + 1] === 0x6c)))
          )
            return false;
        }
      }
      start[slot] = pos;
      end[slot] = e;
      pos = e;
    }
    if (pos >= le) {
      if (slot + 1 < MIN_FIELD_COUNT) return false;
      spans.count = slot + 1;
      spans.extraStart = spans.extraEnd = -1;
      spans.extraCount = 0;
      return end[SLOT_OWNER]! - start[SLOT_OWNER]! <= OWNER_HEX;
    }
    pos++;
  }
  // Fields after the 27th: kept raw, unless they hold a second record (parseLine rejects that line).
  finishExtra(buf, pos, le, spans);
  return end[SLOT_OWNER]! - start[SLOT_OWNER]! <= OWNER_HEX && findUnquotedRecordStart(buf, end[SLOT_TIME]! + 1, le, spans) === -1;
}

export interface LineFailure {
  reason: RejectReason;
  detail: string;
}

/** Tokenises and validates one line [ls, le) of buf into spans; true, or why the line is rejected. */
export function parseLine(buf: Uint8Array, ls: number, le: number, spans: LineSpans): true | LineFailure {
  // Trailing CR (CRLF files) and trailing blanks (an AWS doc example ends with a space) are not data.
  while (le > ls && (buf[le - 1] === CR || buf[le - 1] === SP || buf[le - 1] === TAB)) le--;
  if (le === ls) return { reason: 'blank_line', detail: 'empty line' };
  lineStart = ls;
  failure = undefined;
  let strict = true;
  if (!scanFields(buf, ls, le, 0, spans, true)) {
    const strictFailure = failure;
    failure = undefined;
    strict = false;
    if (!scanFields(buf, ls, le, 0, spans, false)) {
      return diagnose(buf, ls, le, strictFailure);
    }
  }
  const timeMs = parseLogTime(buf, spans.start[SLOT_TIME]!, spans.end[SLOT_TIME]!);
  if (Number.isNaN(timeMs)) {
    // A record cut before its time has the next record's fields in the Time slot.
    return (
      embeddedRecord(buf, ls, le) ?? {
        reason: 'bad_time',
        detail: `time field is not [dd/Mon/yyyy:HH:mm:ss ±hhmm]: ${preview(buf, spans.start[SLOT_TIME]! - 1, spans.end[SLOT_TIME]! + 1)}`,
      }
    );
  }
  // Glued records that still tokenise (EDGE #20). Quoted values were checked while scanning (scanQuoted);
  // the rest costs a comparison or two per row unless the row is already unusual.
  const ownerLength = spans.end[0]! - spans.start[0]!;
  if (ownerLength > OWNER_HEX && ownerLength <= 2 * OWNER_HEX && isLowerHex(buf, spans.start[0]!, spans.end[0]!)) {
    // A record cut inside its owner ID runs into the next record's owner, and the rest of the line is that
    // record, well formed: only the owner's length (no real owner ID is longer than 64 hex digits) tells.
    return glued(ownerLength - OWNER_HEX, 'inside the Bucket Owner');
  }
  if (spans.count > KNOWN_FIELD_COUNT || !strict) {
    // A record start in an unquoted field: the second record's fields follow the first one's, so the row
    // has more than 27 fields, or it only scanned without the enum checks (its tail is out of place).
    const start = findUnquotedRecordStart(buf, spans.end[SLOT_TIME]! + 1, le, spans);
    if (start !== -1) return glued(start - ls, slotName(slotAt(spans, start)));
  }
  spans.timeMs = timeMs;
  return true;
}

/** The first reason a scan failed, kept for the reject record. */
let failure: LineFailure | undefined;
/** Start of the line being parsed, for byte offsets in reject details. */
let lineStart = 0;

function fail(reason: RejectReason, detail: string): false {
  // A glued record explains whatever else failed before it was found.
  if (failure === undefined || (reason === 'embedded_record' && failure.reason !== reason)) failure = { reason, detail };
  return false;
}

/** The reject of a glued line; `where` names the field only when no tokenisation could place it elsewhere. */
function glued(offset: number, where: string | null): LineFailure {
  return { reason: 'embedded_record', detail: `a second record starts at byte ${offset}${where === null ? '' : ` (${where})`}` };
}

/** A rejected line that holds a record start after its first byte was two records glued together. */
function embeddedRecord(buf: Uint8Array, ls: number, le: number): LineFailure | undefined {
  const at = findRecordStart(buf, ls + 1, le);
  return at === -1 ? undefined : glued(at - ls, null);
}

function diagnose(buf: Uint8Array, ls: number, le: number, strictFailure: LineFailure | undefined): LineFailure {
  // A record start found inside a quoted value while scanning is the most precise account of the line.
  if (strictFailure?.reason === 'embedded_record') return strictFailure;
  if (failure?.reason === 'embedded_record') return failure;
  const embedded = embeddedRecord(buf, ls, le);
  if (embedded !== undefined) return embedded;
  // Two records glued together (a truncated record followed by the next, NCBI saw it in production)
  // show a second bracketed time later in the line, also when the second owner is not a canonical ID;
  // say so rather than blame a shifted field.
  const firstTime = buf.indexOf(LBRACKET, ls);
  if (firstTime !== -1 && firstTime < le) {
    const second = findBracketedTime(buf, firstTime + 1, le);
    if (second !== -1) return { reason: 'embedded_record', detail: `a second record starts at byte ${second - ls}` };
  }
  return failure ?? { reason: 'too_few_fields', detail: 'not an access log record' };
}

function findBracketedTime(buf: Uint8Array, from: number, le: number): number {
  for (let i = buf.indexOf(LBRACKET, from); i !== -1 && i + 27 < le + 1; i = buf.indexOf(LBRACKET, i + 1)) {
    if (i >= le) return -1;
    if (buf[i + 3] === 0x2f && buf[i + 7] === 0x2f && buf[i + 12] === 0x3a && buf[i + 21] === SP) return i;
  }
  return -1;
}

/**
 * Where a record start lies inside [from, to): the index of its owner ID, or -1. A record start is the
 * distinctive prefix every access log record begins with (FORMAT.md §2, fields 1–3):
 *
 *   <64 lower-case hex digits> SP <bucket: 1–255 bytes, no space or quote> SP [dd/Mon/yyyy:HH:mm:ss ±hhmm]
 *
 * with a time the parser itself accepts (parseLogTime). The owner may follow any byte: a record cut
 * mid-field runs straight into the next record's owner (`"GET /pa79a59df9…`), so no boundary is required
 * before it. Only the Bucket Owner form of real records counts (the `-` and shortened `79a5` owners are
 * in synthetic samples only), so a shape that could occur by chance needs 64 hex digits, a token and a
 * calendar-valid bracketed time in exactly that order.
 *
 * Why a real request does not produce it: the values S3 itself writes (IDs, operation, URL-encoded key,
 * numbers, enums, ARNs) never hold a bracketed time after a space, so only text the client chose can: a
 * Request-URI target, a Referer or a User-Agent that spells out a whole record prefix (a log line pasted
 * into a header, or an injection probe). The shape is only looked for where a glued record must leave a
 * trace: inside a quoted value that holds a raw quote (scanQuoted), in the unquoted fields of a row with
 * more than 27 fields or of one that failed the enum checks, in a rejected line, and an owner ID longer
 * than 64 hex digits (parseLine). Residual risks: (1) a client that puts a raw `"` *and* a whole record
 * prefix into one header or URL gets its request rejected as embedded_record (kept in the rejects with
 * the raw line) instead of loaded; (2) a second record whose owner is not a canonical ID (synthetic
 * samples only: `-`, the docs' shortened `79a5`) is not recognised, nor a first record cut inside an
 * owner that is not hex.
 */
function findRecordStart(buf: Uint8Array, from: number, to: number): number {
  // `[` is at least owner + SP + 1-byte bucket + SP after `from`, and `]` must fit before `to`.
  for (let i = buf.indexOf(LBRACKET, from + OWNER_HEX + 3); i !== -1 && i + 27 < to; i = buf.indexOf(LBRACKET, i + 1)) {
    if (buf[i + 27] !== RBRACKET || buf[i - 1] !== SP || Number.isNaN(parseLogTime(buf, i + 1, i + 27))) continue;
    // The bucket: back from the space before `[` to the previous space.
    let b = i - 1;
    const bucketLimit = Math.max(from + OWNER_HEX + 1, i - 1 - 255);
    while (b > bucketLimit && buf[b - 1] !== SP && buf[b - 1] !== QUOTE) b--;
    if (b === i - 1 || buf[b - 1] !== SP) continue;
    const owner = b - 1 - OWNER_HEX;
    if (owner >= from && isLowerHex(buf, owner, b - 1)) return owner;
  }
  return -1;
}

/** A record start in [from, to) outside the quoted fields' values (those are checked by scanQuoted). */
function findUnquotedRecordStart(buf: Uint8Array, from: number, to: number, spans: LineSpans): number {
  for (let at = findRecordStart(buf, from, to); at !== -1; at = findRecordStart(buf, at + 1, to)) {
    const slot = slotAt(spans, at);
    if (!(SYNTAX[slot] === Syntax.Quoted && buf[spans.start[slot]! - 1] === QUOTE)) return at;
  }
  return -1;
}

/** The 0-based field slot holding byte `at` of a tokenised line (KNOWN_FIELD_COUNT for the extra fields). */
function slotAt(spans: LineSpans, at: number): number {
  const last = Math.min(spans.count, KNOWN_FIELD_COUNT);
  for (let slot = 0; slot < last; slot++) if (at < spans.end[slot]!) return slot;
  return KNOWN_FIELD_COUNT;
}

function slotName(slot: number): string {
  if (slot >= KNOWN_FIELD_COUNT) return `in the fields after the ${KNOWN_FIELD_COUNT}th`;
  return SYNTAX[slot] === Syntax.Quoted ? `inside the ${FIELDS[slot]!.awsName}` : `in field ${slot + 1}`;
}

function isLowerHex(buf: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/**
 * Reads fields from `slot` on, starting at `pos`. Recursive only at quoted fields, where each candidate
 * end is tried in order until the rest of the line scans; `strict` also checks the enum fields, which is
 * what tells a raw quote inside a value from the real end of the value.
 */
function scanFields(buf: Uint8Array, pos: number, le: number, slot: number, spans: LineSpans, strict: boolean): boolean {
  for (;;) {
    if (slot === KNOWN_FIELD_COUNT) return finishExtra(buf, pos, le, spans);
    if (pos > le) return fail('too_few_fields', `record ends after ${slot} fields (at least ${MIN_FIELD_COUNT} expected)`);
    let end: number;
    const syntax = SYNTAX[slot]!;
    if (syntax === Syntax.Quoted && buf[pos] === QUOTE) {
      return scanQuoted(buf, pos, le, slot, spans, strict);
    } else if (syntax === Syntax.Time && buf[pos] === LBRACKET) {
      const close = buf.indexOf(RBRACKET, pos);
      if (close === -1 || close >= le) return fail('bad_time', 'time field has no closing ]');
      spans.start[slot] = pos + 1;
      spans.end[slot] = close;
      end = close + 1;
      if (end < le && buf[end] !== SP) return fail('bad_time', 'time field is not followed by a space');
    } else {
      end = tokenEnd(buf, pos, le);
      const spaces = SPACES[slot]!;
      if (spaces === Spaces.CloudFrontOai) end = requesterEnd(buf, pos, end, le);
      else if (spaces === Spaces.TwoTokens) end = hostIdEnd(buf, end, le);
      spans.start[slot] = pos;
      spans.end[slot] = end;
      if (!checkToken(buf, pos, end, slot, strict)) return false;
    }
    if (end >= le) return finishAt(slot + 1, spans);
    pos = end + 1;
    slot++;
  }
}

function scanQuoted(buf: Uint8Array, pos: number, le: number, slot: number, spans: LineSpans, strict: boolean): boolean {
  let tried = 0;
  let firstEnd = -1;
  const firstQuote = buf.indexOf(QUOTE, pos + 1);
  for (let q = firstQuote; q !== -1 && q < le; q = buf.indexOf(QUOTE, q + 1)) {
    if (q + 1 !== le && buf[q + 1] !== SP) continue;
    if (++tried > MAX_QUOTE_CANDIDATES) break;
    if (firstEnd === -1) firstEnd = q;
    // A value that would swallow a glued record always holds a raw quote: that record's own opening quote
    // (of its Request-URI, Referer or User-Agent) lies before whichever `" ` closes the value. So only such
    // values are searched, and a record start in one rules out this end and every later one.
    if (q !== firstQuote) {
      const start = findRecordStart(buf, pos + 1, q);
      if (start !== -1) {
        // Before the first possible end the start is inside this field whatever the rest of the line does.
        const { detail } = glued(start - lineStart, start < firstEnd ? slotName(slot) : null);
        return fail('embedded_record', detail);
      }
    }
    spans.start[slot] = pos + 1;
    spans.end[slot] = q;
    if (q + 1 >= le) {
      if (finishAt(slot + 1, spans)) return true;
      continue;
    }
    if (scanFields(buf, q + 2, le, slot + 1, spans, strict)) return true;
    // Without the enum checks a later candidate can merge two quoted fields (`"-" "curl"` read as one
    // Referer) and still look valid; only strict scans may look past the first candidate.
    if (!strict) break;
  }
  if (tried === 0) return fail('unterminated_quote', `field ${slot + 1} opens a quote that is never closed`);
  return false;
}

function finishAt(fields: number, spans: LineSpans): boolean {
  if (fields < MIN_FIELD_COUNT) {
    return fail('too_few_fields', `record has ${fields} fields (at least ${MIN_FIELD_COUNT} expected)`);
  }
  spans.count = fields;
  spans.extraStart = spans.extraEnd = -1;
  spans.extraCount = 0;
  return true;
}

function finishExtra(buf: Uint8Array, pos: number, le: number, spans: LineSpans): boolean {
  // AWS appends new fields at the end: keep their raw text rather than drop it.
  spans.extraStart = pos;
  spans.extraEnd = le;
  let count = 1;
  for (let i = buf.indexOf(SP, pos); i !== -1 && i < le; i = buf.indexOf(SP, i + 1)) count++;
  spans.extraCount = count;
  spans.count = KNOWN_FIELD_COUNT + count;
  return true;
}

function tokenEnd(buf: Uint8Array, pos: number, le: number): number {
  const sp = buf.indexOf(SP, pos);
  return sp === -1 || sp > le ? le : sp;
}

/** CloudFront OAI requesters contain spaces: `arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2…`. */
function requesterEnd(buf: Uint8Array, pos: number, end: number, le: number): number {
  if (end - pos !== OAI_REQUESTER.length || !bytesEqual(buf, pos, OAI_REQUESTER)) return end;
  if (end + OAI_CONTINUATION.length >= le || !bytesEqual(buf, end, OAI_CONTINUATION)) return end;
  return tokenEnd(buf, end + OAI_CONTINUATION.length, le);
}

/** A Host Id of two tokens (seen in real 2019 records): join them when only that makes sigv line up. */
function hostIdEnd(buf: Uint8Array, end: number, le: number): number {
  if (end >= le) return end;
  const secondEnd = tokenEnd(buf, end + 1, le);
  if (isSigv(buf, end + 1, secondEnd) || secondEnd >= le) return end;
  const thirdEnd = tokenEnd(buf, secondEnd + 1, le);
  return isSigv(buf, secondEnd + 1, thirdEnd) ? secondEnd : end;
}

function checkToken(buf: Uint8Array, s: number, e: number, slot: number, strict: boolean): boolean {
  const isDash = e - s === 1 && buf[s] === DASH;
  const syntax = SYNTAX[slot]!;
  if (syntax === Syntax.Quoted) {
    return isDash || fail('bad_quoted_field', `field ${slot + 1} is neither quoted nor -: ${preview(buf, s, e)}`);
  }
  if (syntax === Syntax.Integer) {
    const maxDigits = MAX_DIGITS[slot]!;
    if (isDash) return true;
    if (e === s || e - s > maxDigits) return fail('bad_number', `field ${slot + 1} is not a number: ${preview(buf, s, e)}`);
    for (let i = s; i < e; i++) {
      const c = buf[i]!;
      if (c < 0x30 || c > 0x39) return fail('bad_number', `field ${slot + 1} is not a number: ${preview(buf, s, e)}`);
    }
    return true;
  }
  if (syntax === Syntax.Acl) {
    return isDash || isWord(buf, s, e, 'Yes') || fail('bad_aclrequired', `aclRequired is neither Yes nor -: ${preview(buf, s, e)}`);
  }
  if (!strict) return true;
  // Strict checks only choose between candidate tokenisations; unknown future values still load.
  const shape = SHAPE[slot]!;
  if (shape === Shape.Sigv) return isSigv(buf, s, e) || fail('bad_quoted_field', 'signature version out of place');
  if (shape === Shape.AuthType)
    return (
      isDash ||
      isWord(buf, s, e, 'AuthHeader') ||
      isWord(buf, s, e, 'QueryString') ||
      fail('bad_quoted_field', 'authentication type out of place')
    );
  if (shape === Shape.Tls) {
    return (
      isDash ||
      (e - s >= 4 && (buf[s] === 0x54 || buf[s] === 0x74) && (buf[s + 1] === 0x4c || buf[s + 1] === 0x6c)) ||
      fail('bad_quoted_field', 'TLS version out of place')
    );
  }
  return true;
}

function isSigv(buf: Uint8Array, s: number, e: number): boolean {
  if (e - s === 1) return buf[s] === DASH;
  return (
    e - s === 5 &&
    buf[s] === 0x53 &&
    buf[s + 1] === 0x69 &&
    buf[s + 2] === 0x67 &&
    buf[s + 3] === 0x56 &&
    (buf[s + 4] === 0x32 || buf[s + 4] === 0x34)
  );
}

function isWord(buf: Uint8Array, s: number, e: number, word: string): boolean {
  if (e - s !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[s + i] !== word.charCodeAt(i)) return false;
  return true;
}

function bytesEqual(buf: Uint8Array, at: number, expected: Uint8Array): boolean {
  for (let i = 0; i < expected.length; i++) if (buf[at + i] !== expected[i]) return false;
  return true;
}

function preview(buf: Uint8Array, s: number, e: number): string {
  const text = Buffer.from(buf.buffer, buf.byteOffset + Math.max(0, s), Math.max(0, Math.min(e, buf.length) - Math.max(0, s))).toString(
    'utf8',
  );
  return JSON.stringify(text.length > 60 ? text.slice(0, 57) + '...' : text);
}
