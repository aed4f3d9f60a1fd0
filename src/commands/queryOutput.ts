/**
 * `s3logs query` output: DuckDB values → JSON-friendly values (timestamps ISO-8601 UTC, integers as
 * numbers while exact), written as CSV, JSON Lines or an aligned table.
 */
import type * as DuckDB from '@duckdb/node-api';
import type { DuckDBResult, DuckDBType, DuckDBValue, DuckDBValueConverter, Json } from '@duckdb/node-api';
import { requireCjs } from '../cjs.js';

// By require, not import: src/cjs.ts says why.
const {
  DuckDBDecimalValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTypeId,
  JsonDuckDBValueConverter,
} = requireCjs('@duckdb/node-api') as typeof DuckDB;
type DuckDBTypeId = DuckDB.DuckDBTypeId;

export type OutputFormat = 'csv' | 'json' | 'table';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['csv', 'json', 'table'];

/** What a cell becomes: JSON's own types; nested DuckDB values (LIST, STRUCT, MAP) as arrays and objects. */
export type Plain = string | number | boolean | null | Plain[] | { [key: string]: Plain };

/** Where rows go; `write` resolves once the text is accepted (back-pressure for large results). */
export interface TextSink {
  write(text: string): Promise<void>;
}

const THOUSAND = 1000n;

/** Floor division for negative timestamps (before 1970). */
const floorDiv = (a: bigint, b: bigint): bigint => (a % b < 0n ? a / b - 1n : a / b);

/**
 * ISO-8601 in UTC from microseconds since the epoch: `2024-01-29T10:00:00Z`, a fraction only when there
 * is one (jq's fromdateiso8601 reads the second-resolution form). Infinite timestamps stay `infinity`.
 */
export function isoFromMicros(micros: bigint): string {
  const millis = floorDiv(micros, THOUSAND);
  const date = new Date(Number(millis));
  if (Number.isNaN(date.getTime())) return String(micros);
  const iso = date.toISOString();
  const subMillis = micros - millis * THOUSAND;
  if (subMillis !== 0n) return `${iso.slice(0, -1)}${String(subMillis).padStart(3, '0')}Z`;
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

function timestampText(value: DuckDBValue): string {
  if (value instanceof DuckDBTimestampTZValue || value instanceof DuckDBTimestampValue) {
    return value.isFinite ? isoFromMicros(value.micros) : String(value);
  }
  if (value instanceof DuckDBTimestampMillisecondsValue) return isoFromMicros(value.millis * THOUSAND);
  if (value instanceof DuckDBTimestampSecondsValue) return isoFromMicros(value.seconds * THOUSAND * THOUSAND);
  if (value instanceof DuckDBTimestampNanosecondsValue) return isoFromMicros(floorDiv(value.nanos, THOUSAND));
  return String(value);
}

/** Counts and sums are BIGINT/HUGEINT: a number while it is exact in a double, else its exact digits as a string. */
function integerValue(value: DuckDBValue): number | string {
  const n = typeof value === 'bigint' ? value : BigInt(String(value));
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : String(n);
}

/** DECIMAL (literals such as 1.5, some sums): a number when a double holds every digit, else the exact text. */
function decimalValue(value: DuckDBValue): number | string {
  const text = value instanceof DuckDBDecimalValue ? value.toString() : String(value);
  return text.replace(/[-.]/g, '').replace(/^0+/, '').length <= 15 ? Number(text) : text;
}

const INTEGER_TYPES = new Set<DuckDBTypeId>([
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.BIGNUM,
]);
const TIMESTAMP_TYPES = new Set<DuckDBTypeId>([
  DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_TZ,
  DuckDBTypeId.TIMESTAMP_S,
  DuckDBTypeId.TIMESTAMP_MS,
  DuckDBTypeId.TIMESTAMP_NS,
]);

/** DuckDB's JSON converter (nested values, NaN as text, DATE as YYYY-MM-DD) with our integers, decimals and timestamps. */
export const plainConverter: DuckDBValueConverter<Plain> = (
  value: DuckDBValue,
  type: DuckDBType,
  self: DuckDBValueConverter<Plain>,
): Plain | null => {
  if (value === null) return null;
  if (INTEGER_TYPES.has(type.typeId)) return integerValue(value);
  if (type.typeId === DuckDBTypeId.DECIMAL) return decimalValue(value);
  if (TIMESTAMP_TYPES.has(type.typeId)) return timestampText(value);
  // INTERVAL: DuckDB's own text ("1 day 02:00:00") rather than a months/days/micros object.
  if (type.typeId === DuckDBTypeId.INTERVAL) return String(value);
  return JsonDuckDBValueConverter(value, type, self as unknown as DuckDBValueConverter<Json>) as Plain | null;
};

/** A cell as text for CSV and tables: nested values as JSON, null as undefined (each format spells it). */
function cellText(value: Plain): string | undefined {
  if (value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break; an empty string is `""` so that it differs from NULL (empty). */
export function csvField(value: Plain): string {
  const text = cellText(value);
  if (text === undefined) return '';
  return text === '' || /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One JSON object per row, keys in column order (kept as written when two columns share a name). */
export function jsonLine(names: readonly string[], row: readonly Plain[]): string {
  return `{${names.map((n, i) => `${JSON.stringify(n)}:${JSON.stringify(row[i] ?? null)}`).join(',')}}\n`;
}

/** Control characters would break the alignment of a terminal table: shown escaped. */
const visible = (text: string): string =>
  text.replace(/[\u0000-\u001f\u007f]/g, (c) =>
    c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );

/** psql-style aligned table: numbers right-aligned, NULL spelled out. */
export function renderTable(names: readonly string[], rows: readonly (readonly Plain[])[]): string {
  const cells = rows.map((row) => names.map((_, i) => visible(cellText(row[i] ?? null) ?? 'NULL')));
  const numeric = names.map(
    (_, i) =>
      rows.some((row) => typeof row[i] === 'number') &&
      rows.every((row) => row[i] === null || row[i] === undefined || typeof row[i] === 'number'),
  );
  const headers = names.map(visible);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: readonly string[], alignRight: (i: number) => boolean): string =>
    values
      .map((v, i) => ` ${alignRight(i) ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)} `)
      .join('|')
      .trimEnd() + '\n';
  return [
    line(headers, () => false),
    widths.map((w) => '-'.repeat(w + 2)).join('+') + '\n',
    ...cells.map((row) => line(row, (i) => numeric[i]!)),
  ].join('');
}

/**
 * Writes a streaming result in `format`; CSV and JSON Lines go out chunk by chunk, a table needs every
 * row for its widths. Returns the number of rows.
 */
export async function writeResult(result: DuckDBResult, format: OutputFormat, sink: TextSink): Promise<number> {
  const names = result.columnNames();
  let count = 0;
  if (format === 'table') {
    const rows: Plain[][] = [];
    for await (const chunk of result.yieldConvertedRows(plainConverter)) rows.push(...(chunk as Plain[][]));
    await sink.write(renderTable(names, rows));
    return rows.length;
  }
  if (format === 'csv') await sink.write(names.map(csvField).join(',') + '\n');
  for await (const chunk of result.yieldConvertedRows(plainConverter)) {
    const rows = chunk as Plain[][];
    const text =
      format === 'csv' ? rows.map((row) => row.map(csvField).join(',') + '\n').join('') : rows.map((row) => jsonLine(names, row)).join('');
    await sink.write(text);
    count += rows.length;
  }
  return count;
}
