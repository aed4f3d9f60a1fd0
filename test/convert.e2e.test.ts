/**
 * End to end through the real CLI, one suite run against the local store and against S3 (s3rver over
 * HTTP): seeded logs with known truth → convert → DuckDB reads back exactly the expected rows; re-runs
 * are idempotent; late records land in their own dt; rejects are where README says. S3-only cases
 * (pagination, faults, multipart) are in test/convert.s3.test.ts.
 */
import { readFile, rename } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyDate, type GenerateOptions } from '../scripts/genLogs.js';
import { LocalCatalog } from '../src/catalog/local.js';
import { LocalStorage } from '../src/storage/local.js';
import { localBackend, s3Backend, type Backend } from './helpers/backends.js';
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
    for (const row of object.rows)
      rows.push({ ...row, bucket: object.bucket, dt: new Date(row.requestdatetime as number).toISOString().slice(0, 10) });
    for (const r of object.rejects) rejects.push({ key: object.key, line: r.line });
  }
  return { rows, rejects, lines, objects };
}

describe.each([
  ['local', localBackend],
  ['s3', s3Backend],
] as const)('convert end to end on the %s store', (_name, open) => {
  let backend: Backend;
  const day1 = truth(KEY_DATE);
  const day2 = truth(NEXT_DATE);
  const objects1 = [...generateKeyDate(options(KEY_DATE))];
  const source = () => backend.rawUri + 'logs/';
  const lake = () => backend.destUri('lake');
  const convert = (keyDate: string, dest = lake(), extra: string[] = ['--json']) =>
    runCli(['convert', '--source', source(), '--dest', dest, '--date', keyDate, ...backend.args, ...extra], backend.env);
  const table = async (where?: string) => readTable((await backend.snapshot('lake')).dir, where);

  beforeAll(async () => {
    backend = await open();
    await backend.putRaw([...objects1, ...generateKeyDate(options(NEXT_DATE))]);
  }, 120_000);
  afterAll(async () => {
    await backend?.close();
  });

  it('converts a key date: DuckDB reads back exactly the expected rows', async () => {
    const result = await convert(KEY_DATE);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/warning|error/i);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({
      ok: true,
      objects: day1.objects,
      lines: day1.lines,
      rows: day1.rows.length,
      rejects: day1.rejects.length,
    });
    expect(summary.lines).toBe(summary.rows + summary.rejects);
    for (const field of ['bytesIn', 'filesWritten', 'bytesOut', 'partitions', 'seconds']) expect(summary[field]).toBeGreaterThan(0);

    const got = (await table()).map(rowKey).sort();
    const want = day1.rows.map(rowKey).sort();
    expect(got.length).toBe(want.length);
    expect(got).toEqual(want);
  });

  it('puts every row in the dt of its own time, with bucket and dt usable as filters', async () => {
    const late = day1.rows.filter((r) => r.dt !== KEY_DATE);
    expect(late.length).toBeGreaterThan(0);
    const sample = late[0]!;
    const got = await table(`bucket = '${sample.bucket}' AND dt = DATE '${sample.dt}'`);
    const want = day1.rows.filter((r) => r.bucket === sample.bucket && r.dt === sample.dt);
    expect(got.map(rowKey).sort()).toEqual(want.map(rowKey).sort());
    for (const row of got) {
      expect(row.bucket).toBe(sample.bucket);
      expect(new Date(row.requestdatetime as number).toISOString().slice(0, 10)).toBe(sample.dt);
    }
  });

  it('writes rejects as JSON Lines beside the table, outside the Parquet glob', async () => {
    const snap = await backend.snapshot('lake');
    const rejectFiles = [...snap.files.keys()].filter((k) => k.startsWith(`_s3logs/rejects/keydate=${KEY_DATE}/`));
    expect(rejectFiles.length).toBeGreaterThan(0);
    expect(rejectFiles.every((k) => k.endsWith('.jsonl'))).toBe(true);
    const text = (await Promise.all(rejectFiles.map((f) => readFile(join(snap.dir, f), 'utf8')))).join('');
    const records = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.length).toBe(day1.rejects.length);
    const got = records.map((r) => `${r.source_key}:${r.line}`).sort();
    expect(got).toEqual(day1.rejects.map((r) => `${backend.rawUri}${r.key}:${r.line}`).sort());
    for (const r of records) {
      expect(typeof r.reason).toBe('string');
      expect(typeof r.raw).toBe('string');
    }
  });

  it('re-running a key date gives the same files and no duplicate rows', async () => {
    const before = await backend.snapshot('lake');
    const result = await convert(KEY_DATE, lake(), ['--quiet']);
    expect(result.code, `signal ${result.signal}: ${result.stderr}`).toBe(0);
    const after = await backend.snapshot('lake');
    const data = (m: Map<string, string>) => [...m.entries()].filter(([k]) => k.endsWith('.parquet') || k.endsWith('.jsonl')).sort();
    expect(data(after.files)).toEqual(data(before.files));
    expect([...after.files.keys()].some((k) => k.includes('/staging/') || k.endsWith('.staged'))).toBe(false);
    expect((await readTable(after.dir)).length).toBe(day1.rows.length);
  });

  it('a second key date adds its own files, also in partitions the first one wrote to', async () => {
    const result = await convert(NEXT_DATE);
    expect(result.code, `signal ${result.signal}: ${result.stderr}`).toBe(0);
    const got = (await table()).map(rowKey).sort();
    expect(got).toEqual([...day1.rows, ...day2.rows].map(rowKey).sort());
    // Re-running the first key date must not touch the second one's files.
    await convert(KEY_DATE, lake(), ['--quiet']);
    const snap = await backend.snapshot('lake');
    expect((await readTable(snap.dir)).length).toBe(day1.rows.length + day2.rows.length);
    const catalog = JSON.parse(await readFile(join(snap.dir, '_s3logs', 'catalog.json'), 'utf8'));
    expect(JSON.stringify(catalog)).toContain(`dt=${NEXT_DATE}`);
  });

  it('keeps the rows of raw objects gone from the source and says so; --delete-vanished removes them', async () => {
    // Drop the objects holding the oldest late records (as lifecycle expiry would): their rows stay.
    const dtOf = (ms: number | null) => new Date(ms!).toISOString().slice(0, 10);
    const oldest = objects1.flatMap((o) => o.rows.map((r) => dtOf(r.requestdatetime))).sort()[0]!;
    const holders = objects1.filter((o) => o.rows.some((r) => dtOf(r.requestdatetime) === oldest));
    const before = (await table()).map(rowKey).sort();
    for (const o of holders) await backend.deleteRaw(o.key);
    const goneRows = holders.reduce((sum, o) => sum + o.rows.length, 0);

    const kept = await convert(KEY_DATE, lake(), ['--json']);
    expect(kept.code, `signal ${kept.signal}: ${kept.stderr}`).toBe(0);
    expect(JSON.parse(kept.stdout).keyDates[0].gone).toEqual({ objects: holders.length, rows: goneRows, removed: false });
    expect((await table()).map(rowKey).sort()).toEqual(before);
    const told = await convert(KEY_DATE, lake(), []);
    expect(told.stderr).toContain(
      `${holders.length} object${holders.length === 1 ? ' of this key date is' : 's of this key date are'} gone from the source; ${holders.length === 1 ? 'its' : 'their'} ${goneRows.toLocaleString('en-US')} rows were kept (--delete-vanished removes them)`,
    );

    const removed = await convert(KEY_DATE, lake(), ['--json', '--delete-vanished']);
    expect(removed.code, `signal ${removed.signal}: ${removed.stderr}`).toBe(0);
    const summary = JSON.parse(removed.stdout).keyDates[0];
    expect(summary.gone).toEqual({ objects: holders.length, rows: goneRows, removed: true });
    expect(summary.staleFilesDeleted).toBeGreaterThan(0);
    const remaining = objects1.filter((o) => !holders.includes(o)).flatMap((o) => o.rows);
    expect((await table()).length).toBe(remaining.length + day2.rows.length);
    const dtRows = await table(`dt = DATE '${oldest}'`);
    expect(dtRows.length).toBe([...remaining, ...day2.rows].filter((r) => dtOf(r.requestdatetime as number) === oldest).length);
  });

  it('a key date with no objects exits 0, says so and writes nothing', async () => {
    const result = await convert('2020-01-01', backend.destUri('empty'), []);
    expect(result.code, `signal ${result.signal}: ${result.stderr}`).toBe(0);
    expect(result.stderr).toContain('no log objects found');
    expect((await backend.snapshot('empty')).files.size).toBe(0);
  });
});

/** A fresh local store for one test, removed afterwards. */
async function withLocalBackend(test: (backend: Backend) => Promise<void>): Promise<void> {
  const backend = await localBackend();
  try {
    await test(backend);
  } finally {
    await backend.close();
  }
}

describe('a local lake', () => {
  it('off a terminal, convert logs progress lines a log keeps: listed, every few seconds, published', async () => {
    await withLocalBackend(async (backend) => {
      await backend.putRaw([...generateKeyDate({ ...options(KEY_DATE), objects: 6 })]);
      const result = await runCli(
        ['convert', '--source', backend.rawUri + 'logs/', '--dest', backend.destUri('progress'), '--date', KEY_DATE],
        { S3LOGS_PROGRESS_SECONDS: '0.001' },
      );
      expect(result.code, result.stderr).toBe(0);
      const progress = result.stderr.split('\n').filter((l) => l.startsWith('progress: '));
      expect(progress[0]).toMatch(new RegExp(`^progress: ${KEY_DATE}: 6 objects, [\\d.]+ MiB listed$`));
      expect(progress.filter((l) => /\d\/6 objects, [\d.]+ MiB, [\d,]+ rows$/.test(l)).length).toBeGreaterThan(0);
      expect(progress[progress.length - 1]).toBe(`progress: ${KEY_DATE}: published`);
      expect(result.stderr).not.toContain('\x1b[');
      // A job with the lease tuned through the environment: not mistaken for an unknown setting.
      const job = await runCli(
        [
          'backfill',
          '--source',
          backend.rawUri + 'logs/',
          '--dest',
          backend.destUri('progress'),
          '--from',
          KEY_DATE,
          '--to',
          KEY_DATE,
          '--quiet',
        ],
        { S3LOGS_LOCK_LEASE_SECONDS: '30' },
      );
      expect(job.code, job.stderr).toBe(0);
    });
  });

  it('--dry-run checks the setup and says per key date what a run would do, writing nothing', async () => {
    await withLocalBackend(async (backend) => {
      const objects = [...generateKeyDate({ ...options(KEY_DATE), objects: 4 })];
      await backend.putRaw(objects);
      const dest = backend.destUri('dry');
      const run = (...extra: string[]) =>
        runCli(['convert', '--source', backend.rawUri + 'logs/', '--dest', dest, '--date', KEY_DATE, '--to', NEXT_DATE, ...extra]);
      const before = await run('--dry-run', '--json');
      expect(before.code, before.stderr).toBe(0);
      const [day, next] = JSON.parse(before.stdout).keyDates;
      expect(day).toMatchObject({ status: 'planned', listed: { objects: 4 }, plan: { layouts: ['date-based'], newOrChanged: 4, held: 0 } });
      expect(next).toMatchObject({ status: 'planned', listed: { objects: 0 } });
      expect(before.stderr).toContain(`${KEY_DATE}: 4 objects`);
      expect(before.stderr).toContain('4 new or changed, 0 already in the lake as they are');
      expect(before.stderr).toContain('nothing was converted or written');
      expect((await backend.snapshot('dry')).files.size).toBe(0);
      expect((await runCli(['convert', '--source', backend.rawUri + 'logs/', '--dest', dest, '--date', KEY_DATE, '--quiet'])).code).toBe(0);
      const files = (await backend.snapshot('dry')).files;
      const after = await run('--dry-run', '--json');
      expect(JSON.parse(after.stdout).keyDates[0].plan).toEqual({ layouts: ['date-based'], newOrChanged: 0, held: 4 });
      expect((await backend.snapshot('dry')).files).toEqual(files);
    });
  });

  it('reads gzip and zstd objects (known by their bytes, not their names) into the rows of the plain ones, and says so', async () => {
    await withLocalBackend(async (backend) => {
      const objects = [...generateKeyDate({ ...options(KEY_DATE), objects: 3 })];
      // zstd: a committed fixture (nothing in node_modules encodes zstd) of the vendored AWS docs lines.
      const plainLines = await readFile(
        join(import.meta.dirname, 'fixtures', 'corpus', 'aws-docs', 'devguide-2019-06-07-awsexamplebucket-24fields.log'),
      );
      const zst = await readFile(
        join(import.meta.dirname, 'fixtures', 'compressed', 'corpus', 'aws-docs', 'devguide-2019-06-07-awsexamplebucket-24fields.log.zst'),
      );
      const zstKey = objects[0]!.key.replace(/-[0-9A-F]+$/, '-00000000000000AA');
      await backend.putRaw([
        ...objects.map((o) => ({ key: `plain/${o.key}`, body: o.body })),
        { key: `plain/${zstKey}`, body: plainLines },
      ]);
      await backend.putRaw([
        { key: `packed/${objects[0]!.key}`, body: gzipSync(objects[0]!.body) },
        ...objects.slice(1).map((o) => ({ key: `packed/${o.key}`, body: o.body })),
        { key: `packed/${zstKey}`, body: zst },
      ]);
      const convert = (from: string) =>
        runCli(['convert', '--source', `${backend.rawUri}${from}/logs/`, '--dest', backend.destUri(from), '--date', KEY_DATE, '--json']);
      const [plain, packed] = [await convert('plain'), await convert('packed')];
      for (const r of [plain, packed]) expect(r.code, r.stderr).toBe(0);
      const [a, b] = [JSON.parse(plain.stdout), JSON.parse(packed.stdout)];
      expect(b.keyDates[0].compressedObjects).toEqual({ gzip: 1, zstd: 1 });
      expect(b.bytesParsed).toBe(a.bytesIn);
      expect(b.bytesIn).toBeLessThan(a.bytesIn);
      expect(b.rows).toBe(a.rows);
      expect(packed.stderr).toMatch(/2 compressed objects \(1 gzip, 1 zstd\): [\d.]+ MiB stored, [\d.]+ MiB of logs/);
      const rows = async (name: string) => (await readTable(backend.destUri(name))).map(rowKey).sort();
      expect(await rows('packed')).toEqual(await rows('plain'));

      // A cut compressed object fails its key date loudly; nothing is published.
      await backend.putRaw([{ key: `cut/${objects[0]!.key}`, body: gzipSync(objects[0]!.body).subarray(0, 200) }]);
      const cut = await convert('cut');
      expect(cut.code).toBe(1);
      expect(JSON.parse(cut.stdout).keyDates[0].error).toMatchObject({
        stage: 'parse',
        code: 'data',
        message: expect.stringMatching(/gzip.*nothing of .* was published/),
      });
    });
  });

  it('is relocatable: moved elsewhere, the next convert adds to it and its catalog names the new place', async () => {
    await withLocalBackend(async (backend) => {
      const small = (keyDate: string) => [...generateKeyDate({ ...options(keyDate), objects: 4 })];
      await backend.putRaw([...small(KEY_DATE), ...small(NEXT_DATE)]);
      const convertInto = (dest: string, keyDate: string) =>
        runCli(['convert', '--source', backend.rawUri + 'logs/', '--dest', dest, '--date', keyDate, '--quiet']);
      expect((await convertInto(backend.destUri('before'), KEY_DATE)).code).toBe(0);
      await rename(backend.destUri('before'), backend.destUri('after'));
      const next = await convertInto(backend.destUri('after'), NEXT_DATE);
      expect(next.code, next.stderr).toBe(0);
      const catalog = await readFile(join(backend.destUri('after'), '_s3logs', 'catalog.json'), 'utf8');
      expect(catalog).not.toContain(backend.destUri('before'));
      const partitions = await new LocalCatalog(new LocalStorage(backend.destUri('after'))).listPartitions();
      expect(partitions.length).toBeGreaterThan(1);
      for (const p of partitions) expect(p.location.startsWith(backend.destUri('after') + '/bucket=')).toBe(true);
      const rows = [...small(KEY_DATE), ...small(NEXT_DATE)].reduce((n, o) => n + o.rows.length, 0);
      expect((await readTable(backend.destUri('after'))).length).toBe(rows);
    });
  });
});

describe('the reject guard', () => {
  it('a key date that is mostly not access log lines fails, names the worst object and its reasons, publishes nothing; --max-reject-ratio 1 lets it through; a few bad lines do not trip it', async () => {
    await withLocalBackend(async (backend) => {
      const good = [...generateKeyDate({ ...options(KEY_DATE), objects: 3 })];
      // A binary or foreign file among the logs, named like a log object.
      const garbage = {
        key: good[0]!.key.replace(/-[0-9A-F]+$/, '-0000000000000000'),
        body: Buffer.from(Array.from({ length: 400 }, (_, i) => `line ${i} of something else entirely\n`).join('')),
      };
      await backend.putRaw([...good, garbage]);
      const run = (...extra: string[]) =>
        runCli(['convert', '--source', backend.rawUri + 'logs/', '--dest', backend.destUri('guarded'), '--date', KEY_DATE, ...extra]);
      const failed = await run();
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(
        /FAILED at parse: [\d,]+ of [\d,]+ lines \([\d.]+%\) are not access log records, above --max-reject-ratio 0\.01 \(1\.00%\); worst: \S+-0000000000000000 \(400 of 400 lines: too_few_fields ×400\).*raise --max-reject-ratio.*\(nothing published for this key date\)/,
      );
      expect((await backend.snapshot('guarded')).files.size).toBe(0);
      const allowed = await run('--max-reject-ratio', '1', '--json');
      expect(allowed.code, allowed.stderr).toBe(0);
      expect(JSON.parse(allowed.stdout).rejects).toBe(400 + good.reduce((n, o) => n + o.rejects.length, 0));

      // A few bad lines in a small key date are noise, not a wrong file: above 1%, but not above 10 lines.
      const few = { key: garbage.key, body: Buffer.from(Array.from({ length: 8 }, (_, i) => `junk ${i}\n`).join('')) };
      await backend.putRaw([few]);
      const small = await run('--json');
      expect(small.code, small.stderr).toBe(0);
      const summary = JSON.parse(small.stdout);
      expect(summary.rejects / summary.lines).toBeGreaterThan(0.01);
    });
  });
});

describe('convert usage errors', () => {
  it.each([
    [['convert', '--dest', 'x', '--date', '2024-01-01'], '--source is required'],
    [['convert', '--source', 'a', '--dest', 'b', '--date', '2024-02-30'], '--date must be a date as YYYY-MM-DD'],
    [['convert', '--source', 'a', '--dest', 'b', '--date', '2024-02-03', '--bogus'], 'unknown flag --bogus'],
    [['convert', '--source', 'a', '--dest', 'b', '--date', '2024-02-03', '--to', '2024-02-01'], '--to 2024-02-01 is before --date'],
    [['convert', '--source', 'a', '--dest', 'b', '--date', '2024-02-03', '--concurrency', '0'], '--concurrency must be a whole number'],
    [
      ['convert', '--source', 'a', '--dest', 'b', '--date', '2024-02-03', '--catalog', 'hive'],
      '--catalog must be one of local, glue, none',
    ],
    [['convert', '--source', '/nonexistent/dir/x', '--dest', 'b', '--date', '2024-02-03'], '--source /nonexistent/dir/x does not exist'],
    [['convert', '--source', 'lake', '--dest', 'lake/out', '--date', '2024-02-03'], 'overlaps --source'],
    [
      ['convert', '--source', 's3://logs-bucket/logs/', '--dest', 's3://logs-bucket/logs/parquet/', '--date', '2024-02-03'],
      'overlaps --source',
    ],
    [['convert', '--source', 'a', '--dest', 'b', '--date', '2024-02-03', '--sse-kms-key-id', 'k'], '--sse-kms-key-id needs --sse aws:kms'],
    [
      ['convert', '--source', 'a', '--dest', 'b', '--date', '2024-02-03', '--expected-bucket-owner', '12'],
      '--expected-bucket-owner must be a 12-digit AWS account ID',
    ],
    [
      ['convert', '--source', 'a', '--dest', 'b', '--date', '2024-02-03', '--endpoint-url', 'localhost'],
      '--endpoint-url must be an http(s) URL',
    ],
    [['convert', '--source', 'a', '--dest', 'b', '--date', '2024-02-03', '--region', 'Mars'], 'is not an AWS region name'],
    [['convert', '--source', 'a', '--dest', 'b', '--date', '2024-02-03', '--tag-converted'], '--tag-converted tags raw objects in S3'],
    [['convert', '--source', 'a', '--dest', 'b', '--date', '2024-02-03', '--shard', '4/3'], '--shard must be i/N'],
  ])('bad usage %j exits 2 with a one-line message naming the flag', async (args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
