/**
 * rewrite: a written file minus some row ranges, and reject files minus some source objects.
 *
 * Expected rows come from DuckDB reading the original file in its written order (file_row_number),
 * never from the batch given to the writer: whether the writer reorders rows is not this module's concern.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadParquetWasm } from '../src/stages/parquetWasm.js';
import { Table, tableFromArrays, tableToIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_LOG_COLUMNS, SCHEMA_VERSION } from '../schemas/accessLog.js';
import { generateKeyDate } from '../scripts/genLogs.js';
import { toArrowTable } from '../src/stages/arrowTable.js';
import { RowBatch } from '../src/stages/build.js';
import { footerRowCount } from '../src/stages/footer.js';
import { LineSpans, parseLogObject } from '../src/stages/parse.js';
import { ARROW_SCHEMA } from '../src/schema/arrow.js';
import { keepRejectLines, keepRowRanges, keptRows, RewriteError, type RowRange } from '../src/stages/rewrite.js';
import { encodeParquet, type WriteOptions } from '../src/stages/write.js';
import { query } from './helpers/duck.js';

const pw = loadParquetWasm();

const OPTIONS: WriteOptions = { compression: 'zstd', rowGroupRows: 250, createdBy: 's3logs test' };

function batchOf(seed: number, objects: number): RowBatch {
  const batch = new RowBatch();
  const spans = new LineSpans();
  const gen = {
    seed,
    keyDate: '2024-04-04',
    layout: 'simple',
    objects,
    maxObjectBytes: 64 * 1024,
    oldFormatFraction: 0.1,
    extraFieldsFraction: 0.05,
  } as const;
  for (const o of generateKeyDate(gen)) {
    parseLogObject(o.body, { row: (buf, s) => batch.appendRow(buf, s), reject: () => undefined }, spans);
  }
  return batch;
}

// Every column, timestamps as epoch ms and bigints as numbers, in file order.
const COLUMNS = ACCESS_LOG_COLUMNS.map((c) => (c.kind === 'timestamp' ? `epoch_ms("${c.name}") AS "${c.name}"` : `"${c.name}"`)).join(', ');

async function rowsOf(file: string): Promise<string[]> {
  const rows = await query(`SELECT ${COLUMNS} FROM read_parquet('${file}', file_row_number = true) ORDER BY file_row_number`);
  return rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)));
}

const schemaOf = (file: string) =>
  query(
    `SELECT name, type, type_length, repetition_type, num_children, converted_type, scale, precision, field_id, CAST(logical_type AS VARCHAR) AS logical_type FROM parquet_schema('${file}')`,
  );
const describeOf = (file: string) => query(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
const kvOf = async (file: string) =>
  (await query(`SELECT decode(key) AS key, value FROM parquet_kv_metadata('${file}') ORDER BY key`)).map((r) => [
    r.key,
    Buffer.from(r.value as Uint8Array).toString('base64'),
  ]);
const rowGroupsOf = async (file: string) =>
  (await query(`SELECT DISTINCT row_group_id, row_group_num_rows AS n FROM parquet_metadata('${file}') ORDER BY row_group_id`)).map((r) =>
    Number(r.n),
  );

describe('keepRowRanges', () => {
  let dir: string;
  let original: Uint8Array;
  let originalFile: string;
  let originalRows: string[];
  let n: number;
  let fileCount = 0;

  async function rewritten(ranges: RowRange[], options = OPTIONS): Promise<{ file: string; rows: number }> {
    const encoded = await keepRowRanges(original, ranges, options);
    const file = join(dir, `rewritten-${fileCount++}.parquet`);
    await writeFile(file, encoded.bytes);
    expect(footerRowCount(encoded.bytes)).toBe(encoded.rows);
    return { file, rows: encoded.rows };
  }

  const select = (ranges: RowRange[]) => ranges.flatMap(([s, e]) => originalRows.slice(s, e));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3logs-rewrite-'));
    const batch = batchOf(11, 40);
    ({ bytes: original } = await encodeParquet(batch, OPTIONS));
    originalFile = join(dir, 'original.parquet');
    await writeFile(originalFile, original);
    originalRows = await rowsOf(originalFile);
    n = originalRows.length;
    expect(n).toBe(batch.length);
    expect(n).toBeGreaterThan(1000);
    // Nulls in the data, so validity bitmaps at unaligned slice offsets are exercised.
    expect(originalRows.some((r) => r.includes('null'))).toBe(true);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps exactly the rows of the ranges, in order, all columns', async () => {
    const sets: Array<[string, RowRange[]]> = [
      ['first rows', [[0, 10]]],
      ['last rows', [[n - 7, n]]],
      [
        'middle gaps',
        [
          [0, 50],
          [80, 81],
          [203, n - 100],
        ],
      ],
      ['one row', [[n >> 1, (n >> 1) + 1]]],
      ['everything', [[0, n]]],
      [
        'adjacent ranges',
        [
          [3, 5],
          [5, 300],
          [300, 301],
        ],
      ],
      [
        'across row groups',
        [
          [240, 260],
          [499, 751],
        ],
      ],
    ];
    for (const [name, ranges] of sets) {
      const { file, rows } = await rewritten(ranges);
      const expected = select(ranges);
      expect(rows, name).toBe(expected.length);
      expect(await rowsOf(file), name).toEqual(expected);
    }
  });

  it('writes the same schema, key-value metadata, codec and writer as a new file', async () => {
    const { file } = await rewritten([
      [0, 50],
      [80, 81],
      [203, n - 100],
    ]);
    expect(await schemaOf(file)).toEqual(await schemaOf(originalFile));
    expect(await describeOf(file)).toEqual(await describeOf(originalFile));
    // ARROW:schema (the embedded Arrow schema, byte for byte) and s3logs.schema_version.
    const kv = await kvOf(file);
    expect(kv).toEqual(await kvOf(originalFile));
    expect(kv.map(([k]) => k)).toEqual(expect.arrayContaining(['ARROW:schema', 's3logs.schema_version']));
    const version = await query(
      `SELECT decode(value) AS v FROM parquet_kv_metadata('${file}') WHERE decode(key) = 's3logs.schema_version'`,
    );
    expect(version).toHaveLength(1);
    const fileMeta = async (f: string) => (await query(`SELECT created_by, format_version FROM parquet_file_metadata('${f}')`))[0];
    expect(await fileMeta(file)).toEqual(await fileMeta(originalFile));
    expect((await fileMeta(file))!.created_by).toBe('s3logs test');
    const meta = await query(`SELECT path_in_schema AS col, compression, encodings FROM parquet_metadata('${file}')`);
    expect(new Set(meta.map((m) => m.compression))).toEqual(new Set(['ZSTD']));
    for (const m of meta.filter((m) => m.col === 'requestid' || m.col === 'hostid')) expect(String(m.encodings)).not.toMatch(/DICTIONARY/);
    for (const m of meta.filter((m) => m.col === 'operation')) expect(String(m.encodings)).toMatch(/RLE_DICTIONARY/);
  });

  it('packs many small ranges into full row groups of at most rowGroupRows rows', async () => {
    // Two rows out of every three: hundreds of ranges, most at unaligned offsets.
    const ranges: RowRange[] = [];
    for (let i = 0; i + 2 <= n; i += 3) ranges.push([i, i + 2]);
    expect(ranges.length).toBeGreaterThan(300);
    const { file, rows } = await rewritten(ranges);
    expect(await rowsOf(file)).toEqual(select(ranges));
    const groups = await rowGroupsOf(file);
    expect(groups).toHaveLength(Math.ceil(rows / OPTIONS.rowGroupRows));
    expect(groups.slice(0, -1).every((g) => g === OPTIONS.rowGroupRows)).toBe(true);
    expect(groups.reduce((a, b) => a + b, 0)).toBe(rows);

    const other = await rewritten(ranges, { ...OPTIONS, rowGroupRows: 100, compression: 'snappy' });
    const otherGroups = await rowGroupsOf(other.file);
    expect(otherGroups).toHaveLength(Math.ceil(rows / 100));
    expect(Math.max(...otherGroups)).toBe(100);
    expect(await rowsOf(other.file)).toEqual(select(ranges));
  });

  it('rejects ranges out of bounds, unsorted, overlapping, empty or not integers, and zero kept rows', async () => {
    const cases: Array<[RowRange[], RegExp]> = [
      [[[0, n + 1]], /out of bounds: the file has \d+ rows/],
      [[[-1, 3]], /out of bounds/],
      [[[n, n + 1]], /out of bounds/],
      [
        [
          [10, 20],
          [0, 5],
        ],
        /unsorted or overlaps/,
      ],
      [
        [
          [0, 10],
          [5, 15],
        ],
        /unsorted or overlaps/,
      ],
      [[[3, 3]], /empty or reversed/],
      [[[5, 2]], /empty or reversed/],
      [[[0.5, 2]], /not a pair of integers/],
      [[], /no rows to keep/],
    ];
    for (const [ranges, message] of cases) {
      const error = await keepRowRanges(original, ranges, OPTIONS).catch((e: unknown) => e);
      expect(error, JSON.stringify(ranges)).toBeInstanceOf(RewriteError);
      expect((error as Error).message, JSON.stringify(ranges)).toMatch(message);
    }
    await expect(keepRowRanges(new Uint8Array(100), [[0, 1]], OPTIONS)).rejects.toThrow(/PAR1/);
  });

  it('refuses a file whose schema is not the current one', async () => {
    const write = (table: Table, version?: string) => {
      let builder = new pw.WriterPropertiesBuilder();
      if (version !== undefined) builder = builder.setKeyValueMetadata(new Map([['s3logs.schema_version', version]]));
      return pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(table, 'stream')), builder.build());
    };
    const foreign = tableFromArrays({ a: Int32Array.from([1, 2, 3]) });
    await expect(keepRowRanges(write(foreign), [[0, 2]], OPTIONS)).rejects.toThrow(
      /different schema: s3logs.schema_version is missing, expected \d+/,
    );
    await expect(keepRowRanges(write(foreign, String(SCHEMA_VERSION)), [[0, 2]], OPTIONS)).rejects.toThrow(
      /different schema: 1 columns, expected \d+/,
    );
    const ours = toArrowTable(batchOf(2, 1));
    await expect(keepRowRanges(write(ours, String(SCHEMA_VERSION + 1)), [[0, 2]], OPTIONS)).rejects.toThrow(
      /s3logs.schema_version is \d+, expected/,
    );
    expect((await keepRowRanges(write(ours, String(SCHEMA_VERSION)), [[0, 2]], OPTIONS)).rows).toBe(2);
  });
});

describe('keptRows', () => {
  const json = (row: unknown) => JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));

  it('gathers ranges across record batches that are slices (offsets into shared bitmaps) into one batch', () => {
    const whole = toArrowTable(batchOf(5, 20));
    const n = whole.numRows;
    const all = whole.toArray().map(json);
    // Slices share the original buffers; bitmaps and Bool values are read at data.offset + i.
    const cuts = [0, 37, 38, 203, 204, 611, n];
    const batches = cuts.slice(0, -1).map((c, i) => whole.batches[0]!.slice(c, cuts[i + 1]));
    expect(batches.some((b) => b.data.offset > 0 || b.data.children[0]!.offset > 0)).toBe(true);
    // Some column has nulls in one source batch and none in another (no bitmap copied there).
    const mixed = whole.schema.fields.some((_f, c) => {
      const counts = batches.map((b) => b.data.children[c]!.nullCount);
      return counts.some((k) => k === 0) && counts.some((k) => k > 0);
    });
    expect(mixed).toBe(true);
    const rangeSets: RowRange[][] = [
      [[0, n]],
      [
        [30, 40],
        [200, 205],
        [609, 613],
      ],
      [[37, 38]],
      [
        [1, 2],
        [3, 4],
        [5, 6],
        [36, 39],
        [n - 3, n],
      ],
    ];
    for (let i = 0; i < n - 9; i += 9 + (i % 5)) rangeSets.push([[i, i + 1 + (i % 7)]]);
    const many: RowRange[] = [];
    for (let i = 0; i + 3 <= n; i += 5) many.push([i, i + 3]);
    rangeSets.push(many);
    // In any order (compaction gathers rows sorted by time): every row alone in a seeded shuffle (taken
    // row by row), and long runs backwards (copied run by run).
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1, x = 7; i > 0; i--) {
      x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
      const j = x % (i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    rangeSets.push(order.map((i): RowRange => [i, i + 1]));
    rangeSets.push([
      [600, n],
      [204, 600],
      [38, 204],
      [0, 38],
    ]);
    for (const ranges of rangeSets) {
      const kept = ranges.reduce((a, [s, e]) => a + e - s, 0);
      const out = keptRows(batches, ranges, kept);
      expect(out.numRows).toBe(kept);
      expect(out.schema.fields.map(String)).toEqual(ARROW_SCHEMA.fields.map(String));
      expect(out.schema.metadata).toEqual(ARROW_SCHEMA.metadata);
      for (const child of out.data.children) expect(child.offset).toBe(0);
      expect(new Table(ARROW_SCHEMA, [out]).toArray().map(json), JSON.stringify(ranges.slice(0, 4))).toEqual(
        ranges.flatMap(([s, e]) => all.slice(s, e)),
      );
    }
  });
});

describe('keepRejectLines', () => {
  const record = (sourceKey: string, line: number, raw: string) =>
    JSON.stringify({ key_date: '2024-04-04', source_key: sourceKey, line, reason: 'junk', detail: 'x', raw });
  const lines = [
    record('s3://logs/a', 1, 'garbage "quoted" \\ back'),
    record('s3://logs/b', 7, 'ünïcødé ✓ \u2028 tab\t'),
    record('s3://logs/a', 9, ''),
    record('s3://logs/c', 2, '{"not": "json"}'),
  ];
  const text = lines.join('\n') + '\n';
  const enc = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
  const dec = (b: Uint8Array) => Buffer.from(b).toString('utf8');

  it('keeps the lines whose source_key passes, byte for byte', () => {
    const out = keepRejectLines(enc(text), (key) => key !== 's3://logs/a');
    expect(out.lines).toBe(2);
    expect(dec(out.bytes)).toBe(lines[1] + '\n' + lines[3] + '\n');
    // Key order, spacing and escapes as written, not re-serialized.
    const odd = '{ "raw":"\\u0041",  "source_key" : "s3://logs/z" }';
    expect(dec(keepRejectLines(enc(odd + '\n' + lines[0] + '\n'), (k) => k === 's3://logs/z').bytes)).toBe(odd + '\n');
    expect(keepRejectLines(enc(text), () => true).bytes).toEqual(enc(text));
    const none = keepRejectLines(enc(text), () => false);
    expect(none).toEqual({ bytes: new Uint8Array(0), lines: 0 });
  });

  it('handles a missing final newline and an empty file', () => {
    const out = keepRejectLines(enc(lines.join('\n')), (key) => key === 's3://logs/c');
    expect(out.lines).toBe(1);
    expect(dec(out.bytes)).toBe(lines[3] + '\n');
    expect(dec(keepRejectLines(enc(lines.join('\n')), () => true).bytes)).toBe(text);
    expect(keepRejectLines(new Uint8Array(0), () => true)).toEqual({ bytes: new Uint8Array(0), lines: 0 });
  });

  it('names the line that is not JSON with a string source_key', () => {
    const bad = (line: string, at: number) => {
      const body = [...lines.slice(0, at - 1), line, ...lines.slice(at - 1)].join('\n') + '\n';
      return () => keepRejectLines(enc(body), () => true);
    };
    expect(bad('{"source_key": "s3://x"', 3)).toThrow(/line 3 is not JSON/);
    expect(bad('', 2)).toThrow(/line 2 is not JSON/);
    expect(bad('{"line": 4}', 5)).toThrow(/line 5 has no string source_key/);
    expect(bad('{"source_key": 17}', 1)).toThrow(/line 1 has no string source_key/);
    expect(bad('["source_key"]', 4)).toThrow(/line 4 has no string source_key/);
    expect(bad('null', 2)).toThrow(RewriteError);
  });
});
