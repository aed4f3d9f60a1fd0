/**
 * slimFooter: the footer loses ColumnMetaData.encoding_stats outside the kept columns and
 * size_statistics everywhere, and nothing else; the data pages are untouched and DuckDB and
 * parquet-wasm read the same rows, statistics, encodings and offsets as before.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { loadParquetWasm } from '../src/stages/parquetWasm.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ACCESS_LOG_COLUMNS } from '../schemas/accessLog.js';
import { generateKeyDate } from '../scripts/genLogs.js';
import { RowBatch } from '../src/stages/build.js';
import { footerRowCount, slimFooter } from '../src/stages/footer.js';
import { LineSpans, parseLogObject } from '../src/stages/parse.js';
import { encodeParquet } from '../src/stages/write.js';
import { query } from './helpers/duck.js';
import { columnChunkFields } from './helpers/parquetFooter.js';

const pw = loadParquetWasm();

const ENCODING_STATS = 13;
const SIZE_STATISTICS = 16;
const KEEP = new Set(['requestdatetime', 'httpstatus', 'requester']);

let dir: string;
let original: Uint8Array;
let slim: Uint8Array;
let rows: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3logs-footer-'));
  const batch = new RowBatch();
  const spans = new LineSpans();
  for (const o of generateKeyDate({ seed: 7, keyDate: '2024-04-04', layout: 'simple', objects: 12, maxObjectBytes: 64 * 1024 }))
    parseLogObject(o.body, { row: (buf, s) => batch.appendRow(buf, s), reject: () => undefined }, spans);
  rows = batch.length;
  // Several row groups: every one of them is edited.
  original = (await encodeParquet(batch, { compression: 'zstd', rowGroupRows: 300, createdBy: 's3logs test' })).bytes;
  slim = slimFooter(Uint8Array.from(original), KEEP);
  await writeFile(join(dir, 'original.parquet'), original);
  await writeFile(join(dir, 'slim.parquet'), slim);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('drops encoding_stats from every column chunk but the kept columns, size_statistics from all, and no other field', () => {
  const before = columnChunkFields(original);
  const after = columnChunkFields(slim);
  expect(new Set(before.map((c) => c.rowGroup)).size).toBeGreaterThan(1);
  expect(before.length).toBe(new Set(before.map((c) => c.rowGroup)).size * ACCESS_LOG_COLUMNS.length);
  // parquet-wasm writes encoding_stats for every column, size_statistics for some (else this edit has nothing to do).
  for (const c of before) expect(c.fields, c.column).toContain(ENCODING_STATS);
  expect(before.some((c) => c.fields.includes(SIZE_STATISTICS) && KEEP.has(c.column))).toBe(true);
  expect(after.map((c) => [c.rowGroup, c.column])).toEqual(before.map((c) => [c.rowGroup, c.column]));
  after.forEach((c, i) => {
    const expected = before[i]!.fields.filter((f) => f !== SIZE_STATISTICS && (KEEP.has(c.column) || f !== ENCODING_STATS));
    expect(c.fields, c.column).toEqual(expected);
  });
  expect(footerRowCount(slim)).toBe(rows);
  expect(slim.length).toBeLessThan(original.length);
  // Only the footer changed: every byte before it is the original's.
  const footerStart = original.length - 8 - new DataView(original.buffer, original.byteOffset).getUint32(original.length - 8, true);
  expect(Buffer.from(slim.subarray(0, footerStart)).equals(Buffer.from(original.subarray(0, footerStart)))).toBe(true);
});

it('DuckDB reads the same rows, statistics, encodings and offsets', async () => {
  const meta = async (name: string) =>
    (await query(`SELECT * EXCLUDE (file_name) FROM parquet_metadata('${join(dir, name)}') ORDER BY row_group_id, column_id`)).map((r) =>
      JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    );
  expect(await meta('slim.parquet')).toEqual(await meta('original.parquet'));
  const content = async (name: string) =>
    JSON.stringify(await query(`SELECT count(*) AS n, sum(hash(COLUMNS(*))) AS h FROM read_parquet('${join(dir, name)}')`), (_k, v) =>
      typeof v === 'bigint' ? String(v) : v,
    );
  expect(await content('slim.parquet')).toBe(await content('original.parquet'));
});

it('parquet-wasm reads the same table, types included (the Arrow schema is kept)', () => {
  const read = (bytes: Uint8Array) => tableFromIPC(pw.readParquet(bytes).intoIPCStream());
  const a = read(original);
  const b = read(slim);
  expect(String(b.schema)).toBe(String(a.schema));
  expect(b.numRows).toBe(rows);
  for (const f of a.schema.fields) {
    const values = (t: typeof a) => JSON.stringify(t.getChild(f.name)!.toArray(), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    expect(values(b), f.name).toBe(values(a));
  }
});

it('leaves a file with nothing to drop as it is', () => {
  const copy = Uint8Array.from(slim);
  expect(slimFooter(copy, KEEP)).toBe(copy);
  expect(Buffer.from(copy).equals(Buffer.from(slim))).toBe(true);
  expect(() => slimFooter(new Uint8Array(20), KEEP)).toThrow(/PAR1/);
});
