/**
 * Compaction hands the streaming Parquet writer its rows in writes that end 2,048 rows (or a whole row
 * group) into a row group (compact.ts PAGE_ALIGN_ROWS): where writes end decides where the writer ends
 * data pages, and DuckDB reads 2,048 rows at a time. alignedRows is checked alone, and in a compacted
 * file of ~45,000 rows gathered from many small converted files: the data pages of requestdatetime
 * (whose pages the writer ends where a write ends) hold multiples of 2,048 rows, except a row group's
 * last. Written as the objects came (alignedRows taken out), a page here ended 266 rows
 * past a multiple of 2,048 and this test failed.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyDate } from '../scripts/genLogs.js';
import { alignedRows } from '../src/stages/compact.js';
import { runCli } from './helpers/cli.js';
import { query } from './helpers/duck.js';
import { dataPageRows } from './helpers/parquetFooter.js';

describe('alignedRows', () => {
  it('ends every write at a multiple of 2,048 rows into a row group, or at the row group end, and never past the rows given', () => {
    for (const rowGroupRows of [65_536, 250_000, 3_000]) {
      for (let written = 0; written < 3 * rowGroupRows; written += 2048) {
        // Only places alignedRows itself ends at are starting points.
        const into = written % rowGroupRows;
        if (into % 2048 !== 0) continue;
        for (const rows of [1, 100, 2047, 2048, 2049, 16_384, 16_385, 40_000]) {
          const k = alignedRows(written, rows, rowGroupRows);
          expect(k).toBeGreaterThanOrEqual(0);
          expect(k).toBeLessThanOrEqual(rows);
          const end = written + k;
          expect(end % rowGroupRows === 0 || (end % rowGroupRows) % 2048 === 0).toBe(true);
          // What is held back never completes a row group (the file cut waits for complete row groups).
          const nextGroupEnd = (Math.floor(written / rowGroupRows) + 1) * rowGroupRows;
          if (written + rows >= nextGroupEnd) expect(end).toBeGreaterThanOrEqual(nextGroupEnd);
          // At most one alignment step is held back.
          expect(rows - k).toBeLessThan(2048);
        }
      }
    }
  });
});

describe('compacted files', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 's3logs-pages-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('have data pages of multiples of 2,048 rows (requestdatetime), whatever the objects the rows came in', async () => {
    const keyDate = '2024-06-10';
    const raw = join(work, 'raw');
    const lake = join(work, 'lake');
    await mkdir(raw, { recursive: true });
    // One bucket, no late records: one partition, ~45,000 rows in objects of odd sizes.
    for (const o of generateKeyDate({
      seed: 31,
      keyDate,
      layout: 'simple',
      buckets: ['pages-bucket'],
      lateFraction: 0,
      targetBytes: 30 * 1024 * 1024,
      minObjectBytes: 200 * 1024,
      maxObjectBytes: 900 * 1024,
    }))
      await writeFile(join(raw, o.key), o.body);
    const converted = await runCli(['convert', '--source', raw, '--dest', lake, '--date', keyDate, '--quiet', '--file-rows', '5000']);
    expect(converted.code, converted.stderr).toBe(0);
    const compacted = await runCli(['compact', '--dest', lake, '--from', keyDate, '--to', keyDate, '--quiet', '--json']);
    expect(compacted.code, compacted.stderr).toBe(0);
    expect(JSON.parse(compacted.stdout).partitions.compacted).toBe(1);
    const dir = join(lake, 'bucket=pages-bucket', `dt=${keyDate}`);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.parquet'));
    expect(files).toHaveLength(1);
    const file = join(dir, files[0]!);
    const n = Number((await query(`SELECT count(*)::INTEGER AS n FROM read_parquet('${file}')`))[0]!.n);
    expect(n).toBeGreaterThan(41_000);
    const groups = dataPageRows(new Uint8Array(await readFile(file)), 'requestdatetime');
    expect(groups.flat().reduce((a, b) => a + b, 0)).toBe(n);
    // Some row group has a page that is not its last: a page end inside it to check.
    expect(Math.max(...groups.map((g) => g.length)), JSON.stringify(groups)).toBeGreaterThan(1);
    for (const pages of groups) for (const rows of pages.slice(0, -1)) expect(rows % 2048).toBe(0);
  }, 120_000);
});
