/**
 * End to end through the real CLI on the local store: seeded logs with known truth → convert →
 * DuckDB reads back exactly the expected rows; re-runs are idempotent; late records land in their own
 * dt; rejects are where README says. (The S3 variant of this suite is test/convert.s3.test.ts.)
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyDate, writeKeyDateToDirectory, type GenerateOptions } from '../scripts/genLogs.js';
import { runCli } from './helpers/cli.js';
import { readTable, rowKey } from './helpers/duck.js';

const KEY_DATE = '2024-03-10';
const NEXT_DATE = '2024-03-11';
const options = (keyDate: string): GenerateOptions => ({
  seed: keyDate === KEY_DATE ? 11 : 12,
  keyDate,
  layout: 'date-based',
  prefix: 'logs/',
  objects: 24,
  maxObjectBytes: 256 * 1024,
  lateFraction: 0.05,
  quoteFraction: 0.03,
  extraFieldsFraction: 0.03,
  oldFormatFraction: 0.05,
  rejectFraction: 0.002,
});

function truth(keyDate: string) {
  const rows: Array<Record<string, unknown>> = [];
  const rejects: Array<{ key: string; line: number }> = [];
  let lines = 0;
  let objects = 0;
  for (const object of generateKeyDate(options(keyDate))) {
    objects++;
    lines += object.lines;
    for (const row of object.rows) rows.push({ ...row, bucket: object.bucket, dt: new Date(row.requestdatetime as number).toISOString().slice(0, 10) });
    for (const r of object.rejects) rejects.push({ key: object.key, line: r.line });
  }
  return { rows, rejects, lines, objects };
}

async function filesUnder(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out.set(relative(dir, path), createHash('sha256').update(await readFile(path)).digest('hex'));
    }
  };
  await walk(dir);
  return out;
}

describe('convert on the local store', () => {
  let work: string;
  let raw: string;
  let lake: string;
  const day1 = truth(KEY_DATE);
  const day2 = truth(NEXT_DATE);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 's3logs-e2e-'));
    raw = join(work, 'raw');
    lake = join(work, 'lake');
    await writeKeyDateToDirectory(raw, options(KEY_DATE));
    await writeKeyDateToDirectory(raw, options(NEXT_DATE));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('converts a key date: DuckDB reads back exactly the expected rows', async () => {
    const result = await runCli(['convert', '--source', join(raw, 'logs/'), '--dest', lake, '--date', KEY_DATE, '--json']);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/warning|error/i);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ ok: true, objects: day1.objects, lines: day1.lines, rows: day1.rows.length, rejects: day1.rejects.length });
    expect(summary.lines).toBe(summary.rows + summary.rejects);
    for (const field of ['bytesIn', 'filesWritten', 'bytesOut', 'partitions', 'seconds']) expect(summary[field]).toBeGreaterThan(0);

    const got = (await readTable(lake)).map(rowKey).sort();
    const want = day1.rows.map(rowKey).sort();
    expect(got.length).toBe(want.length);
    expect(got).toEqual(want);
  });

  it('puts every row in the dt of its own time, with bucket and dt usable as filters', async () => {
    const late = day1.rows.filter((r) => r.dt !== KEY_DATE);
    expect(late.length).toBeGreaterThan(0);
    const sample = late[0]!;
    const got = await readTable(lake, `bucket = '${sample.bucket}' AND dt = DATE '${sample.dt}'`);
    const want = day1.rows.filter((r) => r.bucket === sample.bucket && r.dt === sample.dt);
    expect(got.map(rowKey).sort()).toEqual(want.map(rowKey).sort());
    for (const row of got) {
      expect(row.bucket).toBe(sample.bucket);
      expect(new Date(row.requestdatetime as number).toISOString().slice(0, 10)).toBe(sample.dt);
    }
  });

  it('writes rejects as JSON Lines beside the table, outside the Parquet glob', async () => {
    const dir = join(lake, '_s3logs', 'rejects', `keydate=${KEY_DATE}`);
    const text = (await Promise.all((await readdir(dir)).map((f) => readFile(join(dir, f), 'utf8')))).join('');
    const records = text.trim().split('\n').map((l) => JSON.parse(l));
    expect(records.length).toBe(day1.rejects.length);
    const got = records.map((r) => `${relative(join(raw, 'logs'), r.source_key)}:${r.line}`).sort();
    expect(got).toEqual(day1.rejects.map((r) => `${r.key.replace(/^logs\//, '')}:${r.line}`).sort());
    for (const r of records) {
      expect(typeof r.reason).toBe('string');
      expect(typeof r.raw).toBe('string');
    }
  });

  it('re-running a key date gives the same files and no duplicate rows', async () => {
    const before = await filesUnder(lake);
    const result = await runCli(['convert', '--source', join(raw, 'logs/'), '--dest', lake, '--date', KEY_DATE, '--quiet']);
    expect(result.code).toBe(0);
    const after = await filesUnder(lake);
    const data = (m: Map<string, string>) => [...m.entries()].filter(([k]) => k.endsWith('.parquet') || k.endsWith('.jsonl')).sort();
    expect(data(after)).toEqual(data(before));
    expect((await readTable(lake)).length).toBe(day1.rows.length);
  });

  it('a second key date adds its own files, also in partitions the first one wrote to', async () => {
    const result = await runCli(['convert', '--source', join(raw, 'logs/'), '--dest', lake, '--date', NEXT_DATE, '--json']);
    expect(result.code).toBe(0);
    const got = (await readTable(lake)).map(rowKey).sort();
    expect(got).toEqual([...day1.rows, ...day2.rows].map(rowKey).sort());
    // Re-running the first key date must not touch the second one's files.
    await runCli(['convert', '--source', join(raw, 'logs/'), '--dest', lake, '--date', KEY_DATE, '--quiet']);
    expect((await readTable(lake)).length).toBe(day1.rows.length + day2.rows.length);
    const catalog = JSON.parse(await readFile(join(lake, '_s3logs', 'catalog.json'), 'utf8'));
    expect(JSON.stringify(catalog)).toContain(`dt=${NEXT_DATE}`);
  });

  it('removes files a re-run no longer writes when an input object disappears', async () => {
    const objects = [...generateKeyDate(options(KEY_DATE))];
    // Drop the objects holding the oldest late records: their dt partitions must empty out.
    const oldest = objects.flatMap((o) => o.rows.map((r) => ({ key: o.key, dt: new Date(r.requestdatetime).toISOString().slice(0, 10) }))).sort((a, b) => (a.dt < b.dt ? -1 : 1))[0]!;
    const holders = objects.filter((o) => o.rows.some((r) => new Date(r.requestdatetime).toISOString().slice(0, 10) === oldest.dt));
    for (const o of holders) await rm(join(raw, o.key));
    const result = await runCli(['convert', '--source', join(raw, 'logs/'), '--dest', lake, '--date', KEY_DATE, '--json']);
    expect(result.code).toBe(0);
    const remaining = objects.filter((o) => !holders.includes(o)).flatMap((o) => o.rows);
    expect((await readTable(lake)).length).toBe(remaining.length + day2.rows.length);
    const dtRows = await readTable(lake, `dt = DATE '${oldest.dt}'`);
    expect(dtRows.length).toBe([...remaining, ...day2.rows].filter((r) => new Date(r.requestdatetime as number).toISOString().slice(0, 10) === oldest.dt).length);
    const summary = JSON.parse(result.stdout);
    expect(summary.keyDates[0].staleFilesDeleted).toBeGreaterThan(0);
  });

  it('a key date with no objects exits 0, says so and writes nothing', async () => {
    const empty = join(work, 'empty-lake');
    const result = await runCli(['convert', '--source', join(raw, 'logs/'), '--dest', empty, '--date', '2020-01-01']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('no log objects found');
    await expect(stat(empty)).rejects.toThrow();
  });

  it.each([
    [['convert', '--dest', 'x', '--date', '2024-01-01'], '--source is required'],
    [['convert', '--source', 'a', '--dest', 'b', '--date', '2024-02-30'], '--date must be a date as YYYY-MM-DD'],
    [['convert', '--source', 'a', '--dest', 'b', '--date', '2024-02-03', '--bogus'], 'unknown flag --bogus'],
    [['convert', '--source', 'a', '--dest', 'b', '--date', '2024-02-03', '--to', '2024-02-01'], '--to 2024-02-01 is before --date'],
    [['convert', '--source', 'a', '--dest', 'b', '--date', '2024-02-03', '--concurrency', '0'], '--concurrency must be a whole number'],
    [['convert', '--source', 'a', '--dest', 'b', '--date', '2024-02-03', '--catalog', 'hive'], '--catalog must be one of local, glue, none'],
    [['convert', '--source', '/nonexistent/dir/x', '--dest', 'b', '--date', '2024-02-03'], '--source /nonexistent/dir/x does not exist'],
    [['convert', '--source', 'lake', '--dest', 'lake/out', '--date', '2024-02-03'], 'overlaps --source'],
  ])('bad usage %j exits 2 with a one-line message naming the flag', async (args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
