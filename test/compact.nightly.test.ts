/**
 * The nightly compacts settled partitions at the end (dt older than the re-checked key dates and S3's
 * delivery window, a week of them), through the CLI; --no-compact turns it off. Rows stay exactly the
 * generated ones (DuckDB).
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyDate, writeKeyDateToDirectory } from '../scripts/genLogs.js';
import { FLAGS } from '../src/flags/table.js';
import { settledRange } from '../src/jobs/nightly.js';
import { runCli } from './helpers/cli.js';
import { readTable, rowKey } from './helpers/duck.js';

const AS_OF = '2024-05-10';
const KEY_DATES = ['2024-05-08', '2024-05-09'];
const opts = (keyDate: string, seed: number) => ({
  seed,
  keyDate,
  layout: 'simple' as const,
  prefix: 'logs/',
  objects: 6,
  minObjectBytes: 8 * 1024,
  maxObjectBytes: 32 * 1024,
  lateFraction: 0.4,
  rejectFraction: 0.003,
});
const truth = KEY_DATES.flatMap((d, i) => [...generateKeyDate(opts(d, 40 + i))].flatMap((o) => o.rows.map((r) => rowKey(r)))).sort();

/** Parquet files (and their bytes) per partition directory. */
async function partitions(dest: string): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const bucket of (await readdir(dest)).filter((d) => d.startsWith('bucket='))) {
    for (const dt of await readdir(join(dest, bucket))) {
      const dir = join(dest, bucket, dt);
      const sizes: number[] = [];
      for (const f of (await readdir(dir)).filter((n) => n.endsWith('.parquet'))) sizes.push((await stat(join(dir, f))).size);
      out.set(`${bucket}/${dt}`, sizes);
    }
  }
  return out;
}

describe('nightly compaction', () => {
  let work: string;
  const nightly = (dest: string, ...extra: string[]) =>
    runCli([
      'nightly',
      '--source',
      join(work, 'raw', 'logs/'),
      '--dest',
      join(work, dest),
      '--as-of',
      AS_OF,
      '--lookback-days',
      '1',
      '--file-rows',
      '20',
      '--row-group-rows',
      '50',
      '--target-file-mb',
      '0.03',
      // Not --quiet: the job log (JSON lines on stderr, not a terminal) is checked too.
      '--json',
      ...extra,
    ]);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 's3logs-nightly-compact-'));
    for (const [i, d] of KEY_DATES.entries()) await writeKeyDateToDirectory(join(work, 'raw'), opts(d, 40 + i));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('bad compact and nightly flags exit 2 naming the flag', async () => {
    const noDest = await runCli(['compact', '--from', '2024-01-01']);
    expect(noDest.code).toBe(2);
    expect(noDest.stderr).toContain('--dest is required');
    const badTarget = await runCli(['compact', '--dest', join(work, 'x'), '--from', '2024-01-01', '--target-file-mb', '0']);
    expect(badTarget.code).toBe(2);
    expect(badTarget.stderr).toContain('--target-file-mb must be a number of MiB from 0.01 to 4096');
    const nightlyTarget = await runCli([
      'nightly',
      '--source',
      join(work, 'raw', 'logs/'),
      '--dest',
      join(work, 'x'),
      '--target-file-mb',
      'big',
    ]);
    expect(nightlyTarget.code).toBe(2);
    expect(nightlyTarget.stderr).toContain('--target-file-mb must be');
  });

  it('compacted files have row groups of 65,536 rows unless --row-group-rows says otherwise', async () => {
    // Smaller than convert's 250,000: compacted files are sorted by time, and the query bench measured
    // time filters and hour() grouping faster on them (docs/benchmark.md#query).
    expect(FLAGS.compactRowGroupRows.default).toBe(65_536);
    const help = await runCli(['compact', '--help']);
    expect(help.stdout).toMatch(/--row-group-rows <n>\s+most rows per row group of a compacted file \(default 65536\)/);
  });

  it('the settled range is a week ending before the re-checked key dates and a day of delivery', () => {
    // as of 05-10, lag 1, lookback 1: key dates 05-08 and 05-09 are converted; dt up to 05-07 can still
    // get rows from them, so 05-06 is the newest settled dt.
    expect(settledRange(new Date(`${AS_OF}T02:30:00Z`), 1, 1)).toEqual({ from: '2024-04-30', to: '2024-05-06' });
  });

  it('compacts settled partitions at the end; every row stays once; --no-compact leaves them', async () => {
    const off = await nightly('off', '--no-compact');
    expect(off.code, off.stderr).toBe(0);
    expect(JSON.parse(off.stdout).compact).toBeUndefined();
    const before = await partitions(join(work, 'off'));

    const on = await nightly('on');
    expect(on.code, on.stderr).toBe(0);
    const summary = JSON.parse(on.stdout);
    expect(summary.keyDates.map((k: { status: string }) => k.status)).toEqual(['converted', 'converted']);
    expect(summary.compact).toMatchObject({ from: '2024-04-30', to: '2024-05-06', ok: true });
    expect(summary.compact.partitions.compacted).toBeGreaterThan(0);
    expect(summary.compact.rowsAfter).toBe(summary.compact.rowsBefore);
    // The job log has a line per partition compacted, as it finishes (progress of a long compaction).
    const compactedLines = on.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { stage?: string; msg?: string })
      .filter((l) => l.stage === 'compact' && l.msg === 'partition compacted');
    expect(compactedLines).toHaveLength(summary.compact.partitions.compacted);
    const after = await partitions(join(work, 'on'));
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [dir, sizes] of after) {
      const dt = dir.slice(-10);
      if (dt >= '2024-04-30' && dt <= '2024-05-06') {
        expect(sizes.length, dir).toBeLessThanOrEqual(Math.max(1, Math.ceil(sizes.reduce((a, b) => a + b, 0) / (0.03 * 1024 * 1024))));
      } else {
        // Not settled yet: as the convert left it.
        expect(sizes.length, dir).toBe(before.get(dir)!.length);
      }
    }
    expect((await readTable(join(work, 'on'))).map(rowKey).sort()).toEqual(truth);
    expect((await readTable(join(work, 'off'))).map(rowKey).sort()).toEqual(truth);
  }, 120_000);
});
