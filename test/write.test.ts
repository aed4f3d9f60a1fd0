/** Parquet output: footer row count checked independently, rows in parse order, zstd, bounded row groups, types. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadParquetWasm } from '../src/stages/parquetWasm.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyDate } from '../scripts/genLogs.js';
import { toArrowTable } from '../src/stages/arrowTable.js';
import { RowBatch } from '../src/stages/build.js';
import { footerRowCount } from '../src/stages/footer.js';
import { LineSpans, parseLogObject } from '../src/stages/parse.js';
import { encodeParquet } from '../src/stages/write.js';
import { query } from './helpers/duck.js';

const pw = loadParquetWasm();

function batchOf(seed: number, objects: number): RowBatch {
  const batch = new RowBatch();
  const spans = new LineSpans();
  for (const o of generateKeyDate({ seed, keyDate: '2024-04-04', layout: 'simple', objects, maxObjectBytes: 64 * 1024 })) {
    parseLogObject(o.body, { row: (buf, s) => batch.appendRow(buf, s), reject: () => undefined }, spans);
  }
  return batch;
}

describe('encodeParquet', () => {
  let dir: string;
  let file: string;
  let rows: number;
  let parsedTimes: number[];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3logs-write-'));
    const batch = batchOf(3, 12);
    rows = batch.length;
    parsedTimes = toArrowTable(batch).getChild('requestdatetime')!.toArray() as unknown as number[];
    const encoded = await encodeParquet(batch, { compression: 'zstd', rowGroupRows: 1000, createdBy: 's3logs test' });
    expect(encoded.rows).toBe(rows);
    file = join(dir, 'f.parquet');
    await writeFile(file, encoded.bytes);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the footer row count itself, agreeing with the Parquet library', async () => {
    for (const [seed, objects] of [
      [1, 1],
      [2, 5],
      [4, 20],
    ] as const) {
      const batch = batchOf(seed, objects);
      const { bytes } = await encodeParquet(batch, { compression: 'snappy', rowGroupRows: 500, createdBy: 'test' });
      const parquetFile = await pw.ParquetFile.fromFile(new Blob([bytes]));
      const metadata = parquetFile.metadata();
      const fileMetadata = metadata.fileMetadata();
      expect(footerRowCount(bytes)).toBe(fileMetadata.numRows());
      expect(footerRowCount(bytes)).toBe(batch.length);
      fileMetadata.free();
      metadata.free();
      parquetFile.free();
    }
    expect(() => footerRowCount(new Uint8Array(20))).toThrow(/PAR1/);
  });

  it('keeps rows in parse order (the runs of raw objects the lake records), uses zstd and row groups of at most the configured size', async () => {
    const times = await query(
      `SELECT epoch_ms(requestdatetime) AS t FROM read_parquet('${file}', file_row_number = true) ORDER BY file_row_number`,
    );
    const values = times.map((r) => Number(r.t));
    expect(values).toEqual([...parsedTimes].map(Number));
    // Late records make parse order differ from time order: the test would not notice a sort otherwise.
    expect(values).not.toEqual([...values].sort((a, b) => a - b));
    const meta = await query(`SELECT row_group_id, row_group_num_rows AS n, compression FROM parquet_metadata('${file}')`);
    expect(new Set(meta.map((m) => m.compression))).toEqual(new Set(['ZSTD']));
    const groups = new Map(meta.map((m) => [m.row_group_id, Number(m.n)]));
    expect([...groups.values()].every((n) => n <= 1000)).toBe(true);
    expect([...groups.values()].reduce((a, b) => a + b, 0)).toBe(rows);
  });

  it('writes the declared physical and logical types', async () => {
    const schema = await query(`SELECT name, type, logical_type FROM parquet_schema('${file}')`);
    const of = (name: string) => schema.find((s) => s.name === name)!;
    expect(of('requestdatetime').type).toBe('INT64');
    expect(String(of('requestdatetime').logical_type)).toMatch(/TimestampType\(isAdjustedToUTC=1, unit=TimeUnit\(MILLIS/);
    expect(of('bytessent').type).toBe('INT64');
    expect(of('httpstatus').type).toBe('INT32');
    expect(of('aclrequired').type).toBe('BOOLEAN');
    expect(of('key').type).toBe('BYTE_ARRAY');
  });

  it('writes random ids without a dictionary and keeps dictionaries where values repeat', async () => {
    const meta = await query(`SELECT path_in_schema AS col, encodings, dictionary_page_offset FROM parquet_metadata('${file}')`);
    const encodings = (col: string) => meta.filter((m) => m.col === col).map((m) => String(m.encodings));
    for (const col of ['hostid', 'requestid']) {
      expect(encodings(col).length).toBeGreaterThan(0);
      for (const e of encodings(col)) expect(e).not.toMatch(/DICTIONARY/);
    }
    for (const col of ['operation', 'bucket_name', 'key']) {
      for (const e of encodings(col)) expect(e).toMatch(/RLE_DICTIONARY/);
    }
  });

  it('writes statistics where queries filter and on fixed-width columns, none on the other strings', async () => {
    const meta = await query(
      `SELECT path_in_schema AS col, stats_min_value AS lo, stats_max_value AS hi, stats_null_count AS nulls FROM parquet_metadata('${file}')`,
    );
    const hasStats = (col: string) => {
      const chunks = meta.filter((m) => m.col === col);
      expect(chunks.length).toBeGreaterThan(0);
      return chunks.every((m) => m.lo !== null && m.hi !== null);
    };
    for (const col of [
      'requestdatetime',
      'operation',
      'httpstatus',
      'remoteip',
      'requester',
      'key',
      'tlsversion',
      'bytessent',
      'totaltime',
      'field_count',
    ])
      expect(hasStats(col), col).toBe(true);
    for (const col of ['useragent', 'request_uri', 'referrer', 'hostid', 'requestid', 'request_query'])
      expect(hasStats(col), col).toBe(false);
  });
});
