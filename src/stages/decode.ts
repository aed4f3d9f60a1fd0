/**
 * Derived values computed from field bytes: the URL-decoded key (FORMAT.md §3) and the parts of the
 * request line. Pure byte functions; nothing here may throw on bad input (a decode problem never drops
 * a record).
 */
import { isUtf8 } from 'node:buffer';
import { hasByte, repeated } from './bytes.js';

const PERCENT = 0x25;
const PLUS = 0x2b;
const PERCENTS4 = repeated(PERCENT);
const PLUSES4 = repeated(PLUS);

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Percent-decodes src[s, e) into out (which must hold e - s bytes); `plusIsSpace` for form encoding.
 * Malformed escapes are kept as written. Returns the decoded length.
 */
export function percentDecode(src: Uint8Array, s: number, e: number, out: Uint8Array, plusIsSpace: boolean): number {
  let n = 0;
  let high = 0;
  for (let i = s; i < e; i++) {
    const c = src[i]!;
    if (c === PERCENT && i + 2 < e) {
      const hi = hexValue(src[i + 1]!);
      const lo = hexValue(src[i + 2]!);
      if (hi >= 0 && lo >= 0) {
        const b = (hi << 4) | lo;
        high |= b;
        out[n++] = b;
        i += 2;
        continue;
      }
    }
    high |= c;
    out[n++] = plusIsSpace && c === PLUS ? 0x20 : c;
  }
  lastDecodeAscii = high < 0x80;
  return n;
}

/** Whether the last percentDecode wrote only ASCII bytes (valid UTF-8 without asking isUtf8). */
let lastDecodeAscii = true;

/** How S3 encoded the Key field for an operation: REST/WEBSITE/SOAP twice, BATCH and S3 lifecycle once as a form. */
export function keyEncodingOf(buf: Uint8Array, opStart: number, opEnd: number): 'double' | 'form' {
  const first = buf[opStart];
  // 'B' (BATCH.DELETE.OBJECT) and 'S3.' (lifecycle, S3.EXPIRE.OBJECT …) are encoded once.
  if (first === 0x42 && opEnd - opStart > 6 && buf[opStart + 5] === 0x2e) return 'form';
  if (first === 0x53 && buf[opStart + 1] === 0x33 && buf[opStart + 2] === 0x2e) return 'form';
  return 'double';
}

export class KeyDecoder {
  private first = new Uint8Array(1024);
  private second = new Uint8Array(1024);

  /** Where the last decode() put its result (valid up to the length it returned). */
  out: Uint8Array = this.first;

  /**
   * Decodes key bytes per the operation's encoding. Returns the length of the decoded key (in `out`),
   * or -1 when decoding changes nothing (the caller then copies the raw bytes); no allocation per key.
   * A stage whose result is not valid UTF-8 is not applied (the key stays as the previous stage left it).
   */
  decode(buf: Uint8Array, s: number, e: number, encoding: 'double' | 'form', view?: DataView): number {
    let needs = false;
    let i = s;
    // Most keys hold no escape at all: skip them four bytes at a time (`view` is a DataView of exactly buf's bytes).
    if (view !== undefined) {
      const form = encoding === 'form';
      const stop = e - 4;
      for (; i <= stop; i += 4) {
        const word = view.getInt32(i, true);
        if (hasByte(word, PERCENTS4) || (form && hasByte(word, PLUSES4))) break;
      }
    }
    for (; i < e; i++) {
      const c = buf[i]!;
      if (c === PERCENT || (c === PLUS && encoding === 'form')) {
        needs = true;
        break;
      }
    }
    if (!needs) return -1;
    const len = e - s;
    if (this.first.length < len) {
      this.first = new Uint8Array(len * 2);
      this.second = new Uint8Array(len * 2);
    }
    const n1 = percentDecode(buf, s, e, this.first, encoding === 'form');
    // Most decoded keys are ASCII: no native call (and no subarray) needed to know they are UTF-8.
    if (!lastDecodeAscii && !isUtf8(this.first.subarray(0, n1))) return -1;
    this.out = this.first;
    if (encoding === 'form') return n1;
    const n2 = percentDecode(this.first, 0, n1, this.second, false);
    if (!lastDecodeAscii && !isUtf8(this.second.subarray(0, n2))) return n1;
    this.out = this.second;
    return n2;
  }
}

/** Splits a request line `METHOD SP target SP PROTOCOL` leniently into byte offsets. */
export interface RequestParts {
  methodEnd: number;
  /** Start/end of the path (target up to the first ?). */
  pathStart: number;
  pathEnd: number;
  /** Start/end of the query, or -1 when there is no ?. */
  queryStart: number;
  queryEnd: number;
  /** Start of the protocol, or -1 when the line has none. */
  protocolStart: number;
  end: number;
}

const SP = 0x20;
const QMARK = 0x3f;

export function splitRequestLine(buf: Uint8Array, s: number, e: number, out: RequestParts): void {
  let firstSpace = -1;
  for (let i = s; i < e; i++)
    if (buf[i] === SP) {
      firstSpace = i;
      break;
    }
  out.end = e;
  out.queryStart = out.queryEnd = -1;
  if (firstSpace === -1) {
    // A request line without spaces is all method (nothing else to split).
    out.methodEnd = e;
    out.pathStart = out.pathEnd = -1;
    out.protocolStart = -1;
    return;
  }
  out.methodEnd = firstSpace;
  let lastSpace = -1;
  for (let i = e - 1; i > firstSpace; i--)
    if (buf[i] === SP) {
      lastSpace = i;
      break;
    }
  // The protocol is the last token when it looks like one; targets may hold raw spaces (attack payloads).
  let targetEnd = e;
  out.protocolStart = -1;
  const protocolAt = lastSpace === -1 ? -1 : lastSpace + 1;
  if (
    protocolAt !== -1 &&
    e - protocolAt >= 5 &&
    buf[protocolAt] === 0x48 &&
    buf[protocolAt + 1] === 0x54 &&
    buf[protocolAt + 2] === 0x54 &&
    buf[protocolAt + 3] === 0x50 &&
    buf[protocolAt + 4] === 0x2f
  ) {
    out.protocolStart = protocolAt;
    targetEnd = lastSpace;
  } else if (lastSpace === -1 && e - (firstSpace + 1) >= 5 && buf[firstSpace + 1] === 0x48 && buf[firstSpace + 5] === 0x2f) {
    // `GET HTTP/1.1`: no target at all.
    out.protocolStart = firstSpace + 1;
    targetEnd = firstSpace;
  }
  out.pathStart = firstSpace + 1;
  if (targetEnd < out.pathStart) {
    out.pathStart = out.pathEnd = -1;
    return;
  }
  out.pathEnd = targetEnd;
  for (let i = out.pathStart; i < targetEnd; i++) {
    if (buf[i] === QMARK) {
      out.pathEnd = i;
      out.queryStart = i + 1;
      out.queryEnd = targetEnd;
      break;
    }
  }
}
