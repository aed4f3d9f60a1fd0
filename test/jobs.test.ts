/**
 * Scheduled jobs: settings from flags, environment and file (validated, unknown keys rejected);
 * nightly converts yesterday and reprocesses only re-checked dates whose inputs changed; backfill is
 * resumable, reports a failing date while the others go on, logs JSON lines when not on a terminal,
 * and stops cleanly on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyDate, writeKeyDateToDirectory } from '../scripts/genLogs.js';
import { runBackfill } from '../src/jobs/backfill.js';
import { nightlyKeyDate, nightlyKeyDates, runNightly } from '../src/jobs/nightly.js';
import { CLI, runCli } from './helpers/cli.js';
import { readTable } from './helpers/duck.js';
import { heldLock } from './helpers/locks.js';

const NOW = new Date('2024-11-20T03:15:00Z');
const opts = (keyDate: string, seed: number) => ({
  seed,
  keyDate,
  layout: 'simple' as const,
  prefix: 'logs/',
  objects: 4,
  maxObjectBytes: 32 * 1024,
  lateFraction: 0,
});
const rowsOf = (keyDate: string, seed: number) => [...generateKeyDate(opts(keyDate, seed))].reduce((n, o) => n + o.rows.length, 0);

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 's3logs-jobs-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('job settings', () => {
  it('flags beat the environment, which beats the config file; unknown keys are errors', async () => {
    const file = join(work, 'config.json');
    await writeFile(
      file,
      JSON.stringify({ source: join(work, 'nowhere-file'), dest: join(work, 'lake-file'), concurrency: 3, 'lookback-days': 0 }),
    );
    const raw = join(work, 'settings-raw');
    await writeKeyDateToDirectory(raw, opts('2024-11-19', 1));
    const result = await runNightly(
      ['--dest', join(work, 'lake-flag'), '--quiet'],
      { S3LOGS_CONFIG: file, S3LOGS_SOURCE: join(raw, 'logs/'), S3LOGS_DEST: join(work, 'lake-env') },
      NOW,
    );
    expect(result.exitCode).toBe(0);
    expect(result.summary!.keyDates.map((k) => k.keyDate)).toEqual(['2024-11-19']);
    expect(await readdir(join(work, 'lake-flag'))).toContain('_s3logs');

    await writeFile(file, JSON.stringify({ sorce: 'typo' }));
    await expect(runNightly(['--quiet'], { S3LOGS_CONFIG: file }, NOW)).rejects.toThrow(/unknown setting "sorce"/);
    await expect(runNightly(['--quiet'], { S3LOGS_SORCE: 'x' }, NOW)).rejects.toThrow(/unknown environment variable S3LOGS_SORCE/);
    await expect(runNightly(['--lag-days', 'two'], {}, NOW)).rejects.toThrow(/--lag-days must be a whole number/);
    const cli = await runCli(['backfill', '--source', raw, '--dest', join(work, 'x'), '--from', '2024-01-02']);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('--to is required');
  });

  it('--as-of runs the nightly as if today were that date, through the CLI', async () => {
    const raw = join(work, 'as-of-raw');
    await writeKeyDateToDirectory(raw, opts('2024-02-28', 5));
    const result = await runCli([
      'nightly',
      '--source',
      join(raw, 'logs/'),
      '--dest',
      join(work, 'as-of-lake'),
      '--as-of',
      '2024-02-29',
      '--lookback-days',
      '1',
      '--json',
      '--quiet',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).keyDates.map((k: { keyDate: string; status: string }) => [k.keyDate, k.status])).toEqual([
      ['2024-02-28', 'converted'],
      ['2024-02-27', 'empty'],
    ]);
    const bad = await runCli(['nightly', '--source', join(raw, 'logs/'), '--dest', join(work, 'as-of-lake'), '--as-of', '2024-02-30']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--as-of must be a date as YYYY-MM-DD');
  });

  it('computes yesterday in UTC and the re-checked dates', () => {
    expect(nightlyKeyDate(new Date('2024-03-01T00:30:00Z'))).toBe('2024-02-29');
    expect(nightlyKeyDate(new Date('2024-03-01T23:59:59-05:00'))).toBe('2024-03-01');
    expect(nightlyKeyDates(NOW, 1, 2)).toEqual(['2024-11-19', '2024-11-18', '2024-11-17']);
  });
});

describe('nightly', () => {
  it('converts yesterday, skips unchanged dates, and reprocesses a re-checked date whose inputs changed', async () => {
    const raw = join(work, 'nightly-raw');
    const lake = join(work, 'nightly-lake');
    for (const [i, day] of ['2024-11-19', '2024-11-18', '2024-11-17'].entries()) await writeKeyDateToDirectory(raw, opts(day, 10 + i));
    const args = ['--source', join(raw, 'logs/'), '--dest', lake, '--lookback-days', '3', '--quiet'];
    const first = await runNightly(args, {}, NOW);
    expect(first.exitCode).toBe(0);
    expect(first.summary!.keyDates.map((k) => [k.keyDate, k.status])).toEqual([
      ['2024-11-19', 'converted'],
      ['2024-11-18', 'converted'],
      ['2024-11-17', 'converted'],
      ['2024-11-16', 'empty'],
    ]);
    const second = await runNightly(args, {}, NOW);
    expect(second.summary!.keyDates.map((k) => k.status)).toEqual(['unchanged', 'unchanged', 'unchanged', 'empty']);
    // A skipped key date says what it checked, not "0 objects".
    expect(second.summary!.keyDates[0]!.listed).toEqual({
      objects: 4,
      bytes: [...generateKeyDate(opts('2024-11-19', 10))].reduce((n, o) => n + o.body.length, 0),
    });
    expect(second.summary!.keyDates[0]!.objects).toBe(0);
    // A log object for 2024-11-17 delivered late, after that date was converted.
    const late = [...generateKeyDate({ ...opts('2024-11-17', 99), objects: 1 })][0]!;
    await mkdir(join(raw, 'logs'), { recursive: true });
    await writeFile(join(raw, late.key.replace(/-[0-9A-F]+$/, '-FFFFFFFFFFFFFFFF')), late.body);
    const third = await runNightly(args, {}, NOW);
    expect(third.summary!.keyDates.map((k) => k.status)).toEqual(['unchanged', 'unchanged', 'converted', 'empty']);
    const expected = rowsOf('2024-11-19', 10) + rowsOf('2024-11-18', 11) + rowsOf('2024-11-17', 12) + late.rows.length;
    expect((await readTable(lake)).length).toBe(expected);

    // Lifecycle expiry takes two of 2024-11-18's raw objects: the lookback keeps their rows, says so.
    const expired = [...generateKeyDate(opts('2024-11-18', 11))].slice(0, 2);
    for (const o of expired) await rm(join(raw, o.key));
    const fourth = await runNightly(args, {}, NOW);
    expect(fourth.exitCode).toBe(0);
    const checked = fourth.summary!.keyDates.find((k) => k.keyDate === '2024-11-18')!;
    expect(checked.status).toBe('unchanged');
    expect(checked.gone).toEqual({ objects: 2, rows: expired.reduce((n, o) => n + o.rows.length, 0), removed: false });
    expect((await readTable(lake)).length).toBe(expected);
  });
});

describe('backfill', () => {
  const days = ['2024-06-01', '2024-06-02', '2024-06-03', '2024-06-04'];
  let raw: string;
  beforeAll(async () => {
    raw = join(work, 'backfill-raw');
    for (const [i, day] of days.entries()) await writeKeyDateToDirectory(raw, opts(day, 20 + i));
  });

  it('goes on past a failing date, reports it, and resumes without redoing finished dates', async () => {
    const lake = join(work, 'backfill-lake');
    // Another host holds the lock of one date: that date fails clearly, the others convert.
    const lock = join(lake, '_s3logs', 'keydates', '2024-06-03', 'lock.json');
    await mkdir(join(lake, '_s3logs', 'keydates', '2024-06-03'), { recursive: true });
    await writeFile(lock, heldLock(3_600_000, { token: 't' }));
    const args = ['--source', join(raw, 'logs/'), '--dest', lake, '--from', days[0]!, '--to', days[3]!, '--parallel-dates', '2', '--quiet'];
    // Through the CLI: the summary on stdout (--json) and the JSON log lines on stderr both carry the bounded code.
    const first = await runCli(['backfill', ...args, '--json']);
    // The only failure is a lock another live run holds: 75, so a scheduler retries later.
    expect(first.code, first.stderr).toBe(75);
    const summary = JSON.parse(first.stdout) as { failedKeyDates: string[]; keyDates: Array<{ keyDate: string; error?: object }> };
    expect(summary.failedKeyDates).toEqual(['2024-06-03']);
    expect(summary.keyDates.find((k) => k.keyDate === '2024-06-03')!.error).toEqual({
      stage: 'lock',
      code: 'locked',
      message: expect.stringMatching(/held by run elsewhere \(convert\) on other-host.*Wait for it/),
    });
    // --quiet keeps error lines: the failed key date's, with its stage and error_code.
    const failed = first.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.msg === 'key date failed');
    expect(failed).toEqual([
      expect.objectContaining({
        keyDate: '2024-06-03',
        stage: 'lock',
        error_code: 'locked',
        err: expect.stringMatching(/held by run elsewhere/),
      }),
    ]);
    await rm(lock);
    const second = await runBackfill(args, {});
    expect(second.exitCode).toBe(0);
    expect(second.summary!.keyDates.map((k) => k.status)).toEqual(['unchanged', 'unchanged', 'converted', 'unchanged']);
    const forced = await runBackfill([...args, '--force'], {});
    expect(forced.summary!.keyDates.map((k) => k.status)).toEqual(['converted', 'converted', 'converted', 'converted']);
    expect((await readTable(lake)).length).toBe(days.reduce((n, d, i) => n + rowsOf(d, 20 + i), 0));
  });

  it('logs JSON lines with run id, key date and stage timings when stderr is not a terminal', async () => {
    const result = await runCli([
      'backfill',
      '--source',
      join(raw, 'logs/'),
      '--dest',
      join(work, 'backfill-log'),
      '--from',
      days[0]!,
      '--to',
      days[1]!,
    ]);
    expect(result.code).toBe(0);
    const records = result.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const runIds = new Set(records.map((r) => r.runId));
    expect(runIds.size).toBe(1);
    expect(records.map((r) => r.msg)).toEqual(['job started', 'key date done', 'key date done', 'progress', 'job finished']);
    expect(
      records
        .filter((r) => r.msg === 'key date done')
        .map((r) => r.keyDate)
        .sort(),
    ).toEqual(days.slice(0, 2));
    expect(records[1].stageSeconds.parse).toBeGreaterThan(0);
    expect(records[4]).toMatchObject({ ok: true, exitCode: 0, statuses: { converted: 2 } });

    const debug = await runCli([
      'backfill',
      '--source',
      join(raw, 'logs/'),
      '--dest',
      join(work, 'backfill-debug'),
      '--from',
      days[0]!,
      '--to',
      days[0]!,
      '--log-level',
      'debug',
    ]);
    const objects = debug.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.msg === 'object parsed');
    expect(objects.length).toBe(4);
    for (const o of objects)
      expect(o).toMatchObject({
        keyDate: days[0],
        stage: 'parse',
        objectKey: expect.stringContaining('logs/2024-06-01-'),
        lines: expect.any(Number),
        rows: expect.any(Number),
      });
  });

  it('on SIGTERM stops taking new dates, publishes nothing half-done and exits 143; a re-run completes', async () => {
    const lake = join(work, 'backfill-term');
    const many = join(work, 'backfill-many');
    const range = Array.from({ length: 8 }, (_, i) => `2024-07-0${i + 1}`);
    for (const [i, day] of range.entries()) await writeKeyDateToDirectory(many, { ...opts(day, 40 + i), objects: 12 });
    const child = spawn(
      process.execPath,
      [CLI, 'backfill', '--source', join(many, 'logs/'), '--dest', lake, '--from', range[0]!, '--to', range[7]!, '--parallel-dates', '1'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('"key date done"')) resolve();
      });
    });
    child.kill('SIGTERM');
    expect(await exit).toBe(143);
    const done = stderr.split('\n').filter((l) => l.includes('"key date done"')).length;
    expect(done).toBeLessThan(8);
    const files = (await readdir(lake, { recursive: true })).map(String);
    expect(files.some((f) => f.includes('staging') && f.endsWith('.staged'))).toBe(false);
    expect(files.some((f) => /lock-[^/]+\.json$/.test(f))).toBe(false);
    const rerun = await runCli([
      'backfill',
      '--source',
      join(many, 'logs/'),
      '--dest',
      lake,
      '--from',
      range[0]!,
      '--to',
      range[7]!,
      '--quiet',
      '--json',
    ]);
    expect(rerun.code).toBe(0);
    const statuses = JSON.parse(rerun.stdout).keyDates.map((k: { status: string }) => k.status);
    expect(statuses.filter((s: string) => s === 'unchanged').length).toBeGreaterThanOrEqual(1);
    expect((await readTable(lake)).length).toBe(
      range.reduce((n, d, i) => n + [...generateKeyDate({ ...opts(d, 40 + i), objects: 12 })].reduce((m, o) => m + o.rows.length, 0), 0),
    );
  });

  it('reports progress across the range: periodic JSON lines off a terminal, one live line on a terminal', async () => {
    const many = join(work, 'backfill-many');
    const range = Array.from({ length: 8 }, (_, i) => `2024-07-0${i + 1}`);
    const json = await runCli([
      'backfill',
      '--source',
      join(many, 'logs/'),
      '--dest',
      join(work, 'backfill-progress'),
      '--from',
      range[0]!,
      '--to',
      range[7]!,
      '--parallel-dates',
      '1',
      '--progress-seconds',
      '1',
      '--force',
    ]);
    expect(json.code).toBe(0);
    const progress = json.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.type === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress[progress.length - 1]).toMatchObject({ datesDone: 8, datesLeft: 0, etaSeconds: 0 });
    for (const p of progress) {
      expect(p.datesDone + p.datesLeft).toBe(8);
      expect(p).toMatchObject({ rows: expect.any(Number), bytesIn: expect.any(Number), mibPerSecond: expect.any(Number) });
    }

    // On a terminal: one line redrawn in place with dates, rows, MiB, MiB/s and ETA, then the summary.
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
    Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
    process.stderr.write = ((chunk: string) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      const result = await runBackfill(
        ['--source', join(many, 'logs/'), '--dest', join(work, 'backfill-tty'), '--from', range[0]!, '--to', range[1]!],
        {},
      );
      expect(result.exitCode).toBe(0);
    } finally {
      process.stderr.write = write;
      if (tty) Object.defineProperty(process.stderr, 'isTTY', tty);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
    const text = written.join('');
    expect(text).toMatch(/\r\x1b\[2K2\/2 key dates, [\d,]+ rows, [\d.]+ MiB, [\d.]+ MiB\/s, ETA/);
    expect(text).toContain('total: ');
    expect(text).not.toContain('"msg"');
  });
});
