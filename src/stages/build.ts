/**
 * build: parsed field spans → column buffers in Arrow's layout (an Arrow Table of them: arrowTable.ts).
 *
 * One RowBatch per output file being filled. What each log field's slot does and which column it fills
 * are decided once from the schema (a small integer code and a column index per slot), so the per-row
 * loop only switches on that code; every column is the one Column class, so every append is monomorphic.
 */
import { ACCESS_LOG_COLUMNS, KNOWN_FIELD_COUNT, type ColumnName } from '../../schemas/accessLog.js';
import { Column, NO_POOL, type BufferPool, type PhysicalKind } from './columns.js';
import { KeyDecoder, keyEncodingOf, splitRequestLine, type RequestParts } from './decode.js';
import { FIELDS, type LineSpans } from './parse.js';

const DASH = 0x2d;

// biome-ignore lint/suspicious/noConstEnum: module-private, inlined by tsc on the hot path (no enum object lookups)
const enum FieldCode {
  String = 0,
  Time = 1,
  Int32 = 2,
  Int64 = 3,
  Acl = 4,
}

/** How to fill the column of each log field slot, from the schema declaration. */
const FIELD_CODES = Int8Array.from(FIELDS, (c) => {
  switch (c.syntax) {
    case 'time':
      return FieldCode.Time;
    case 'acl':
      return FieldCode.Acl;
    case 'integer':
      return c.kind === 'int64' ? FieldCode.Int64 : FieldCode.Int32;
    default:
      return FieldCode.String;
  }
});

function columnIndex(name: ColumnName): number {
  const index = ACCESS_LOG_COLUMNS.findIndex((c) => c.name === name);
  if (index < 0) throw new Error(`schema has no column ${name}`);
  return index;
}

/** The column each log field slot fills (the schema's column order need not follow field positions). */
const FIELD_COLUMN = Int8Array.from(FIELDS, (c) => columnIndex(c.name));

const SLOT_KEY = FIELDS.findIndex((f) => f.name === 'key');
const SLOT_OPERATION = FIELDS.findIndex((f) => f.name === 'operation');
const SLOT_REQUEST_URI = FIELDS.findIndex((f) => f.name === 'request_uri');
const COL_METHOD = columnIndex('request_method');
const COL_PATH = columnIndex('request_path');
const COL_QUERY = columnIndex('request_query');
const COL_PROTOCOL = columnIndex('request_protocol');
const COL_KEY_DECODED = columnIndex('key_decoded');
const COL_FIELD_COUNT = columnIndex('field_count');
const COL_EXTRA = columnIndex('extra_fields');

const PHYSICAL: Record<(typeof ACCESS_LOG_COLUMNS)[number]['kind'], PhysicalKind> = {
  string: 'utf8',
  int32: 'int32',
  int64: 'int64',
  timestamp: 'int64',
  bool: 'bool',
};

function parseDigits(buf: Uint8Array, s: number, e: number): number {
  let value = 0;
  for (let i = s; i < e; i++) value = value * 10 + (buf[i]! - 0x30);
  return value;
}

/** Rows for one output file, column by column. */
export class RowBatch {
  readonly columns: Column[];
  length = 0;
  /** Rows every column has room for (validity, offsets, fixed-width values). */
  private capacity: number;
  private readonly keyDecoder = new KeyDecoder();
  private readonly request: RequestParts = { methodEnd: 0, pathStart: 0, pathEnd: 0, queryStart: 0, queryEnd: 0, protocolStart: 0, end: 0 };
  /** The input buffer rows last came from, as a plain Uint8Array and a DataView (one per object). */
  private source: Uint8Array | undefined;
  private bytes: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(new ArrayBuffer(0));

  constructor(columns?: Column[], pool: BufferPool = NO_POOL) {
    this.columns = columns ?? ACCESS_LOG_COLUMNS.map((c) => new Column(PHYSICAL[c.kind], pool));
    this.length = this.columns[0]!.length;
    this.capacity = Math.min(...this.columns.map((c) => c.rowCapacity()));
  }

  /** An empty batch sized like this one, so a busy partition's next file does not regrow its buffers. */
  emptyLike(): RowBatch {
    return new RowBatch(this.columns.map((c) => c.emptyLike()));
  }

  byteSize(): number {
    let size = 0;
    for (const column of this.columns) size += column.byteSize();
    return size;
  }

  allocated(): number {
    let size = 0;
    for (const column of this.columns) size += column.allocated();
    return size;
  }

  /** Drops the reference to the last input buffer (a batch that waits for rows must not keep an object alive). */
  forgetSource(): void {
    this.source = undefined;
    this.bytes = new Uint8Array(0);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Gives the buffers back to their pool (a batch that will not be encoded); the batch is unusable after. */
  release(): void {
    for (const column of this.columns) column.release();
  }

  appendRow(buf: Uint8Array, spans: LineSpans): void {
    if (buf !== this.source) {
      this.source = buf;
      // A Buffer's subarray() is slow to make; a plain view of the same bytes is not.
      this.bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    if (this.length >= this.capacity) this.growRows();
    const bytes = this.bytes;
    const view = this.view;
    const cols = this.columns;
    const start = spans.start;
    const end = spans.end;
    const present = Math.min(spans.count, KNOWN_FIELD_COUNT);
    for (let slot = 0; slot < present; slot++) {
      const col = cols[FIELD_COLUMN[slot]!]!;
      const s = start[slot]!;
      const e = end[slot]!;
      const dash = e - s === 1 && bytes[s] === DASH;
      switch (FIELD_CODES[slot]) {
        case FieldCode.String:
          if (dash) col.appendNull();
          else col.appendBytes(bytes, view, s, e);
          break;
        case FieldCode.Time:
          col.appendInt64(spans.timeMs);
          break;
        case FieldCode.Int32:
          if (dash) col.appendNull();
          else col.appendInt32(parseDigits(bytes, s, e));
          break;
        case FieldCode.Int64:
          if (dash) col.appendNull();
          else col.appendInt64(parseDigits(bytes, s, e));
          break;
        case FieldCode.Acl:
          // `-` means "no ACL required" (false), not unknown; absent fields are null (below).
          col.appendBool(!dash);
          break;
      }
    }
    // Older, shorter records: the fields they predate are null (aclrequired included).
    for (let slot = present; slot < KNOWN_FIELD_COUNT; slot++) cols[FIELD_COLUMN[slot]!]!.appendNull();
    this.appendDerived(bytes, view, spans, present);
    this.length++;
  }

  /** DataViews of the key decoder's two output buffers, made again only when it replaces one. */
  private readonly decodedViews = new Map<Uint8Array, DataView>();
  private decodedView(out: Uint8Array): DataView {
    let view = this.decodedViews.get(out);
    if (view === undefined) {
      if (this.decodedViews.size >= 2) this.decodedViews.clear();
      this.decodedViews.set(out, (view = new DataView(out.buffer, out.byteOffset, out.byteLength)));
    }
    return view;
  }

  private growRows(): void {
    const rows = Math.max(256, this.capacity * 2);
    for (const column of this.columns) column.ensureRows(rows);
    this.capacity = rows;
  }

  private appendDerived(buf: Uint8Array, view: DataView, spans: LineSpans, present: number): void {
    const cols = this.columns;
    const method = cols[COL_METHOD]!;
    const path = cols[COL_PATH]!;
    const query = cols[COL_QUERY]!;
    const protocol = cols[COL_PROTOCOL]!;
    const us = spans.start[SLOT_REQUEST_URI]!;
    const ue = spans.end[SLOT_REQUEST_URI]!;
    if (SLOT_REQUEST_URI >= present || (ue - us === 1 && buf[us] === DASH)) {
      method.appendNull();
      path.appendNull();
      query.appendNull();
      protocol.appendNull();
    } else {
      const r = this.request;
      splitRequestLine(buf, us, ue, r);
      method.appendBytes(buf, view, us, r.methodEnd);
      if (r.pathStart < 0) path.appendNull();
      else path.appendBytes(buf, view, r.pathStart, r.pathEnd);
      if (r.queryStart < 0) query.appendNull();
      else query.appendBytes(buf, view, r.queryStart, r.queryEnd);
      if (r.protocolStart < 0) protocol.appendNull();
      else protocol.appendBytes(buf, view, r.protocolStart, r.end);
    }

    const decoded = cols[COL_KEY_DECODED]!;
    const ks = spans.start[SLOT_KEY]!;
    const ke = spans.end[SLOT_KEY]!;
    if (ke - ks === 1 && buf[ks] === DASH) decoded.appendNull();
    else {
      const encoding = keyEncodingOf(buf, spans.start[SLOT_OPERATION]!, spans.end[SLOT_OPERATION]!);
      const n = this.keyDecoder.decode(buf, ks, ke, encoding, view);
      if (n < 0) decoded.appendBytes(buf, view, ks, ke);
      else decoded.appendBytes(this.keyDecoder.out, this.decodedView(this.keyDecoder.out), 0, n);
    }

    cols[COL_FIELD_COUNT]!.appendInt32(spans.count);
    const extra = cols[COL_EXTRA]!;
    if (spans.extraStart < 0) extra.appendNull();
    else extra.appendBytes(buf, view, spans.extraStart, spans.extraEnd);
  }
}
