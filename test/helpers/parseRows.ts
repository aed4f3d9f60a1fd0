/**
 * Test helper: runs a whole log object through the real parse → build path (parseLogObject, then
 * RowBatch.appendRow and arrowTable.ts) and returns plain JS values, so tests assert on what a Parquet
 * reader would see. bigint cells (int64 columns, the timestamp) become numbers; every value in our
 * fixtures is far below 2^53, and a value that is not is reported instead of silently rounded.
 */
import { toArrowTable } from '../../src/stages/arrowTable.js';
import { RowBatch } from '../../src/stages/build.js';
import { parseLogObject, type ParseCounts, type RejectReason } from '../../src/stages/parse.js';

export type Row = Record<string, unknown>;

export interface Reject {
  /** 1-based line number in the object. */
  line: number;
  reason: RejectReason;
  detail: string;
  /** The rejected line without its line break, decoded as UTF-8. */
  raw: string;
}

export interface Parsed {
  rows: Row[];
  /** 1-based line number of each row, parallel to rows. */
  rowLines: number[];
  rejects: Reject[];
  counts: ParseCounts;
}

function plain(value: unknown): unknown {
  if (typeof value !== 'bigint') return value;
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new Error(`value ${value} does not fit a JS number exactly`);
  }
  return Number(value);
}

/** Parses a log object given as text (UTF-8) or bytes. */
export function parseRows(input: string | Uint8Array): Parsed {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const batch = new RowBatch();
  const rowLines: number[] = [];
  const rejects: Reject[] = [];
  const counts = parseLogObject(bytes, {
    row(buf, spans, lineNumber) {
      batch.appendRow(buf, spans);
      rowLines.push(lineNumber);
    },
    reject(line, reason, detail, raw) {
      rejects.push({ line, reason, detail, raw: Buffer.from(raw).toString('utf8') });
    },
  });
  const table = toArrowTable(batch);
  const names = table.schema.fields.map((f) => f.name);
  const rows: Row[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const row: Row = {};
    for (const name of names) row[name] = plain(table.getChild(name)!.get(i));
    rows.push(row);
  }
  return { rows, rowLines, rejects, counts };
}

/** Parses text that must hold exactly one valid record and returns that row. */
export function parseOne(line: string | Uint8Array): Row {
  const { rows, rejects } = parseRows(line);
  if (rejects.length > 0) throw new Error(`expected one row, got reject ${rejects[0]!.reason}: ${rejects[0]!.detail}`);
  if (rows.length !== 1) throw new Error(`expected one row, got ${rows.length}`);
  return rows[0]!;
}
