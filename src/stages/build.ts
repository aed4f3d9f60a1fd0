/**
 * build: parsed field spans → column buffers → Arrow RecordBatch.
 *
 * One RowBatch per output file being filled. The per-field handling is decided once from the schema
 * (a small integer code per slot), so the per-row loop only switches on that code.
 */
import { makeData, RecordBatch, Struct, Table } from 'apache-arrow';
import { ACCESS_LOG_COLUMNS, KNOWN_FIELD_COUNT } from '../../schemas/accessLog.js';
import { ARROW_SCHEMA } from '../schema/arrow.js';
import { BoolColumn, Int32Column, Int64Column, Utf8Column, type Column } from './columns.js';
import { KeyDecoder, keyEncodingOf, splitRequestLine, type RequestParts } from './decode.js';
import type { LineSpans } from './parse.js';

const DASH = 0x2d;

const enum FieldCode {
  String = 0,
  Time = 1,
  Int32 = 2,
  Int64 = 3,
  Acl = 4,
}

/** How to fill each of the 27 field columns, from the schema declaration. */
const FIELD_CODES = new Int8Array(
  ACCESS_LOG_COLUMNS.filter((c) => c.source === 'field').map((c) => {
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
  }),
);

function columnIndex(name: string): number {
  const index = ACCESS_LOG_COLUMNS.findIndex((c) => c.name === name);
  if (index < 0) throw new Error(`schema has no column ${name}`);
  return index;
}

const COL_KEY = columnIndex('key');
const COL_OPERATION = columnIndex('operation');
const COL_REQUEST_URI = columnIndex('request_uri');
const COL_METHOD = columnIndex('request_method');
const COL_PATH = columnIndex('request_path');
const COL_QUERY = columnIndex('request_query');
const COL_PROTOCOL = columnIndex('request_protocol');
const COL_KEY_DECODED = columnIndex('key_decoded');
const COL_FIELD_COUNT = columnIndex('field_count');
const COL_EXTRA = columnIndex('extra_fields');

if (FIELD_CODES.length !== KNOWN_FIELD_COUNT) throw new Error('schema field columns must cover the 27 known fields');

function newColumn(kind: (typeof ACCESS_LOG_COLUMNS)[number]['kind']): Column {
  switch (kind) {
    case 'string':
      return new Utf8Column();
    case 'int32':
      return new Int32Column();
    case 'int64':
    case 'timestamp':
      return new Int64Column();
    case 'bool':
      return new BoolColumn();
  }
}

function parseDigits(buf: Uint8Array, s: number, e: number): number {
  let value = 0;
  for (let i = s; i < e; i++) value = value * 10 + (buf[i]! - 0x30);
  return value;
}

/** Rows for one output file, column by column. */
export class RowBatch {
  readonly columns: Column[];
  length = 0;
  private readonly keyDecoder = new KeyDecoder();
  private readonly request: RequestParts = { methodEnd: 0, pathStart: 0, pathEnd: 0, queryStart: 0, queryEnd: 0, protocolStart: 0, end: 0 };

  constructor(columns?: Column[]) {
    this.columns = columns ?? ACCESS_LOG_COLUMNS.map((c) => newColumn(c.kind));
    this.length = this.columns[0]!.length;
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

  appendRow(buf: Uint8Array, spans: LineSpans): void {
    const cols = this.columns;
    const present = Math.min(spans.count, KNOWN_FIELD_COUNT);
    for (let slot = 0; slot < KNOWN_FIELD_COUNT; slot++) {
      const code = FIELD_CODES[slot]!;
      if (slot >= present) {
        // Older, shorter records: the fields they predate are null (aclrequired included).
        cols[slot]!.appendNull();
        continue;
      }
      const s = spans.start[slot]!;
      const e = spans.end[slot]!;
      const dash = e - s === 1 && buf[s] === DASH;
      switch (code) {
        case FieldCode.String:
          if (dash) (cols[slot] as Utf8Column).appendNull();
          else (cols[slot] as Utf8Column).append(buf, s, e);
          break;
        case FieldCode.Time:
          (cols[slot] as Int64Column).append(spans.timeMs);
          break;
        case FieldCode.Int32:
          if (dash) (cols[slot] as Int32Column).appendNull();
          else (cols[slot] as Int32Column).append(parseDigits(buf, s, e));
          break;
        case FieldCode.Int64:
          if (dash) (cols[slot] as Int64Column).appendNull();
          else (cols[slot] as Int64Column).append(parseDigits(buf, s, e));
          break;
        case FieldCode.Acl:
          // `-` means "no ACL required" (false), not unknown; absent fields were handled above (null).
          (cols[slot] as BoolColumn).append(!dash);
          break;
      }
    }
    this.appendDerived(buf, spans, present);
    this.length++;
  }

  private appendDerived(buf: Uint8Array, spans: LineSpans, present: number): void {
    const cols = this.columns;
    const method = cols[COL_METHOD] as Utf8Column;
    const path = cols[COL_PATH] as Utf8Column;
    const query = cols[COL_QUERY] as Utf8Column;
    const protocol = cols[COL_PROTOCOL] as Utf8Column;
    const us = spans.start[COL_REQUEST_URI]!;
    const ue = spans.end[COL_REQUEST_URI]!;
    if (COL_REQUEST_URI >= present || (ue - us === 1 && buf[us] === DASH)) {
      method.appendNull();
      path.appendNull();
      query.appendNull();
      protocol.appendNull();
    } else {
      const r = this.request;
      splitRequestLine(buf, us, ue, r);
      method.append(buf, us, r.methodEnd);
      if (r.pathStart < 0) path.appendNull();
      else path.append(buf, r.pathStart, r.pathEnd);
      if (r.queryStart < 0) query.appendNull();
      else query.append(buf, r.queryStart, r.queryEnd);
      if (r.protocolStart < 0) protocol.appendNull();
      else protocol.append(buf, r.protocolStart, r.end);
    }

    const decoded = cols[COL_KEY_DECODED] as Utf8Column;
    const ks = spans.start[COL_KEY]!;
    const ke = spans.end[COL_KEY]!;
    if (ke - ks === 1 && buf[ks] === DASH) decoded.appendNull();
    else {
      const encoding = keyEncodingOf(buf, spans.start[COL_OPERATION]!, spans.end[COL_OPERATION]!);
      const result = this.keyDecoder.decode(buf, ks, ke, encoding);
      if (result === undefined) decoded.append(buf, ks, ke);
      else decoded.append(result[0], 0, result[1]);
    }

    (cols[COL_FIELD_COUNT] as Int32Column).append(spans.count);
    const extra = cols[COL_EXTRA] as Utf8Column;
    if (spans.extraStart < 0) extra.appendNull();
    else extra.append(buf, spans.extraStart, spans.extraEnd);
  }

  toArrowTable(): Table {
    const children = this.columns.map((column, i) => column.toData(ARROW_SCHEMA.fields[i]!.type));
    const struct = makeData({ type: new Struct(ARROW_SCHEMA.fields), length: this.length, nullCount: 0, children });
    return new Table(ARROW_SCHEMA, [new RecordBatch(ARROW_SCHEMA, struct)]);
  }
}
