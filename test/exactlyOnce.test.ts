/**
 * Issue #12's invariant through the real CLI, on the local store and on S3 (s3rver over HTTP): every
 * raw object ever converted into a dest has its rows in the lake exactly once, however runs are scoped,
 * repeated or sharded — expired raw logs keep their rows, sources add up, overlapping sources count an
 * object once, changed objects are replaced, shards and plain runs never double a row. Every check
 * reads the lake back with DuckDB (count and content) and counts the reject lines.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyDate, type GeneratedObject } from '../scripts/genLogs.js';
import { localBackend, s3Backend, type Backend } from './helpers/backends.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { readTable, rowKey } from './helpers/duck.js';
import { heldLock } from './helpers/locks.js';

const KEY_DATE = '2024-05-20';

function generate(seed: number, prefix: string, objects = 10): GeneratedObject[] {
  return [
    ...generateKeyDate({
      seed,
      keyDate: KEY_DATE,
      layout: 'date-based',
      prefix,
      objects,
      maxObjectBytes: 40 * 1024,
      lateFraction: 0.05,
      rejectFraction: 0.004,
    }),
  ];
}

/** Rows and reject count the lake must hold for these raw objects. */
function expected(objects: readonly GeneratedObject[]): { rows: string[]; rejects: number } {
  const rows = objects.flatMap((o) => o.rows.map((r) => rowKey(r))).sort();
  return { rows, rejects: objects.reduce((sum, o) => sum + o.rejects.length, 0) };
}

describe.each([
  ['local', localBackend],
  ['s3', s3Backend],
] as const)('exactly once on the %s store', (_name, open) => {
  let backend: Backend;
  // Two sources: one log bucket with three source buckets (date-based), and another log prefix.
  // Seeds whose reject share stays under the default --max-reject-ratio (1%), also per shard, with some rejects.
  const a = generate(68, 'logs/');
  const b = generate(45, 'other-logs/', 6);

  const run = (args: string[]): Promise<CliResult> => runCli([...args, ...backend.args], backend.env);
  const convert = (dest: string, source: string, ...extra: string[]) =>
    run(['convert', '--source', backend.rawUri + source, '--dest', backend.destUri(dest), '--date', KEY_DATE, '--json', ...extra]);
  const backfill = (dest: string, source: string, ...extra: string[]) =>
    run([
      'backfill',
      '--source',
      backend.rawUri + source,
      '--dest',
      backend.destUri(dest),
      '--from',
      KEY_DATE,
      '--to',
      KEY_DATE,
      '--json',
      '--quiet',
      ...extra,
    ]);
  const keyDate = (result: CliResult) => {
    expect(result.stdout, result.stderr).not.toBe('');
    return JSON.parse(result.stdout).keyDates[0];
  };
  const ok = (result: CliResult) => {
    expect(result.code, `${result.signal ?? ''} ${result.stderr}`).toBe(0);
    return keyDate(result);
  };
  /** The lake's rows (DuckDB) and reject lines. */
  const lake = async (dest: string) => {
    const snap = await backend.snapshot(dest);
    const parquet = [...snap.files.keys()].some((k) => k.endsWith('.parquet'));
    const rows = parquet ? (await readTable(snap.dir)).map(rowKey).sort() : [];
    let rejects = 0;
    for (const key of snap.files.keys())
      if (key.endsWith('.jsonl')) rejects += (await readFile(join(snap.dir, key), 'utf8')).split('\n').filter(Boolean).length;
    // Staging stays only while a shard's part waits for the others.
    const waiting = [...snap.files.keys()].some((k) => /\/shards\/s\d+of\d+\.json$/.test(k));
    const leftovers = [...snap.files.keys()].filter(
      (k) => (!waiting && k.includes('/staging/')) || /publish-[^/]+\.json$/.test(k) || /lock[^/]*\.json$/.test(k),
    );
    return { rows, rejects, leftovers };
  };
  const expectLake = async (dest: string, objects: readonly GeneratedObject[]) => {
    const got = await lake(dest);
    const want = expected(objects);
    expect(got.rows.length).toBe(want.rows.length);
    expect(got.rows).toEqual(want.rows);
    expect(got.rejects).toBe(want.rejects);
    expect(got.leftovers).toEqual([]);
  };

  beforeAll(async () => {
    backend = await open();
    await backend.putRaw([...a, ...b]);
  }, 120_000);
  afterAll(async () => {
    await backend?.close();
  });

  it('raw objects gone from the source keep their rows (backfill skips, convert keeps, says so); --delete-vanished removes them', async () => {
    const dest = 'expired';
    ok(await convert(dest, 'logs/'));
    await expectLake(dest, a);
    // Lifecycle expiry takes a quarter of the key date's objects.
    const gone = a.filter((_, i) => i % 4 === 1);
    const goneRows = gone.reduce((sum, o) => sum + o.rows.length, 0);
    for (const o of gone) await backend.deleteRaw(o.key);
    try {
      const skipped = ok(await backfill(dest, 'logs/'));
      expect(skipped.status).toBe('unchanged');
      expect(skipped.gone).toEqual({ objects: gone.length, rows: goneRows, removed: false });
      await expectLake(dest, a);

      const again = await convert(dest, 'logs/');
      const converted = ok(again);
      expect(converted.status).toBe('converted');
      expect(converted.objects).toBe(a.length - gone.length);
      expect(converted.carriedFiles).toBeGreaterThan(0);
      expect(again.stderr).toContain(
        `${gone.length} objects of this key date are gone from the source; their ${goneRows.toLocaleString('en-US')} rows were kept (--delete-vanished removes them)`,
      );
      await expectLake(dest, a);

      const removed = ok(await convert(dest, 'logs/', '--delete-vanished'));
      expect(removed.gone).toEqual({ objects: gone.length, rows: goneRows, removed: true });
      await expectLake(
        dest,
        a.filter((o) => !gone.includes(o)),
      );
    } finally {
      await backend.putRaw(gone);
    }
  }, 120_000);

  it('two sources feed one lake: A then B holds both, and converting either again keeps the other', async () => {
    const dest = 'two-sources';
    ok(await convert(dest, 'logs/'));
    ok(await convert(dest, 'other-logs/'));
    await expectLake(dest, [...a, ...b]);
    const again = ok(await convert(dest, 'logs/'));
    expect(again.gone.objects).toBe(0);
    await expectLake(dest, [...a, ...b]);
    expect(ok(await backfill(dest, 'other-logs/')).status).toBe('unchanged');
    await expectLake(dest, [...a, ...b]);
  }, 120_000);

  it('overlapping sources count each raw object once: a whole log prefix then one bucket, and the other way round', async () => {
    const oneBucket = a[0]!.key.slice(0, a[0]!.key.indexOf('/2024/') + 1);
    const inBucket = a.filter((o) => o.key.startsWith(oneBucket));
    expect(inBucket.length).toBeGreaterThan(0);
    expect(inBucket.length).toBeLessThan(a.length);

    ok(await convert('whole-then-part', 'logs/'));
    const part = ok(await convert('whole-then-part', oneBucket));
    expect(part.objects).toBe(inBucket.length);
    expect(part.gone.objects).toBe(0);
    await expectLake('whole-then-part', a);

    ok(await convert('part-then-whole', oneBucket));
    await expectLake('part-then-whole', inBucket);
    ok(await convert('part-then-whole', 'logs/'));
    await expectLake('part-then-whole', a);
    expect(ok(await backfill('part-then-whole', oneBucket)).status).toBe('unchanged');
  }, 120_000);

  it('a changed raw object replaces its rows, a late one adds its own; nothing else moves', async () => {
    const dest = 'changed';
    ok(await convert(dest, 'logs/'));
    // The same key with other content (another object's lines), and a late object of the key date.
    const target = a[2]!;
    const replacement = { ...generate(43, 'logs/', 1)[0]!, key: target.key };
    const late = { ...generate(44, 'logs/', 1)[0]! };
    await backend.putRaw([replacement, late]);
    try {
      const result = ok(await backfill(dest, 'logs/'));
      expect(result.status).toBe('converted');
      await expectLake(dest, [...a.filter((o) => o !== target), replacement, late]);
    } finally {
      await backend.putRaw([target]);
      await backend.deleteRaw(late.key);
    }
  }, 120_000);

  it('shards and plain runs in any order give every row once; s3logs commit after the round says it is done', async () => {
    const dest = 'shards';
    const shard = (i: number, ...extra: string[]) => convert(dest, 'logs/', '--shard', `${i}/2`, ...extra);
    const first = ok(await shard(1));
    expect(first.status).toBe('staged');
    expect(first.waitingFor).toEqual([2]);
    expect((await lake(dest)).rows).toEqual([]);

    // A whole-key-date run in between publishes everything and supersedes the staged shard.
    ok(await convert(dest, 'logs/'));
    await expectLake(dest, a);
    const second = ok(await shard(2));
    expect(second.status).toBe('staged');
    expect(second.waitingFor).toEqual([1]);
    await expectLake(dest, a);

    // Shard 1 again: the round is complete, the last shard publishes it.
    const last = ok(await shard(1));
    expect(last.status).toBe('converted');
    await expectLake(dest, a);

    const commit = await run([
      'commit',
      '--source',
      backend.rawUri + 'logs/',
      '--dest',
      backend.destUri(dest),
      '--date',
      KEY_DATE,
      '--shards',
      '2',
    ]);
    expect(commit.code, commit.stderr).toBe(0);
    expect(commit.stderr).toMatch(/nothing to commit: the key date was published by run \S+ \(commit\) at /);
    await expectLake(dest, a);
  }, 180_000);

  it('one publish lock: a last shard and a whole-key-date run meet a live holder (exit 75), s3logs commit takes over when its lease ends', async () => {
    const dest = 'lock-shared';
    ok(await convert(dest, 'logs/', '--shard', '1/2'));
    // Another host's run holds the key date's publish lock (its lease renewed for a while yet).
    const lockKey = `_s3logs/keydates/${KEY_DATE}/lock.json`;
    const holder = (leaseMs: number) => backend.putDest(dest, lockKey, heldLock(leaseMs));
    await holder(300_000);

    const blocked = await convert(dest, 'logs/', '--shard', '2/2', '--lock-wait-seconds', '0');
    expect(blocked.code).toBe(75);
    expect(keyDate(blocked).error).toMatchObject({ stage: 'commit', code: 'locked' });
    expect(blocked.stderr).toMatch(/lock\.json is held by run elsewhere \(convert\) on other-host, pid 1, since .*; its lease runs to /);
    const plain = await convert(dest, 'logs/');
    expect(plain.code).toBe(75);
    expect((await lake(dest)).rows).toEqual([]);

    // The holder died: its last lease ends in 2 s; a commit that may wait takes the lock over then.
    await holder(2_000);
    const commit = await run([
      'commit',
      '--source',
      backend.rawUri + 'logs/',
      '--dest',
      backend.destUri(dest),
      '--date',
      KEY_DATE,
      '--shards',
      '2',
      '--lock-wait-seconds',
      '60',
    ]);
    expect(commit.code, commit.stderr).toBe(0);
    await expectLake(dest, a);
  }, 120_000);
});
