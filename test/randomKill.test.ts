/**
 * SIGKILL at a random moment, not at a named point (S3: randomKill.s3.test.ts): a run that replaces an
 * earlier one (and a compaction) is killed after a seeded random share of its clean duration, then run again. Whatever the moment, the
 * lake must equal an uninterrupted run's (byte for byte; for compaction, row for row), list only files
 * that exist in its catalog, and hold nothing else: no staging, journal, lock, or hidden temp file of a
 * write the kill cut short.
 */
import { cp, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyDate, writeKeyDateToDirectory, type GenerateOptions } from '../scripts/genLogs.js';
import { localBackend, type Backend } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';
import { readTable, rowKey } from './helpers/duck.js';
import { catalogMissing, killMoments, lakeState, leftoversOf, runKilledAfter } from './helpers/kills.js';

const KEY_DATE = '2024-10-10';
const options: GenerateOptions = {
  seed: 91,
  keyDate: KEY_DATE,
  layout: 'simple',
  prefix: 'logs/',
  objects: 24,
  maxObjectBytes: 96 * 1024,
  lateFraction: 0.05,
  rejectFraction: 0.002,
};
const KILLS = 8;

describe('SIGKILL at random moments of a run that replaces an earlier one, then re-run', () => {
  let backend: Backend;
  let work: string;
  let baseline: Awaited<ReturnType<typeof state>>;
  let cleanMs = 0;
  const full = () => join(work, 'full', 'logs/');
  const convertArgs = (dest: string) => ['convert', '--source', full(), '--dest', backend.destUri(dest), '--date', KEY_DATE, '--quiet'];
  /** The same source at an earlier moment: its last three objects had not arrived yet (moved aside, mtimes kept). */
  const earlier = async <T>(run: () => Promise<T>): Promise<T> => {
    const names = (await readdir(join(work, 'full', 'logs'))).sort().slice(-3);
    await mkdir(join(work, 'aside'), { recursive: true });
    for (const name of names) await rename(join(work, 'full', 'logs', name), join(work, 'aside', name));
    try {
      return await run();
    } finally {
      for (const name of names) await rename(join(work, 'aside', name), join(work, 'full', 'logs', name));
    }
  };

  const state = (dest: string) => lakeState(backend, dest);

  beforeAll(async () => {
    backend = await localBackend();
    work = await mkdtemp(join(tmpdir(), 's3logs-randomkill-'));
    await writeKeyDateToDirectory(join(work, 'full'), options);
    // The lake as the earlier source left it, copied for every kill (a directory on the local store).
    expect((await earlier(() => runCli(convertArgs('earlier')))).code).toBe(0);
    await cp(backend.destUri('earlier'), backend.destUri('baseline'), { recursive: true });
    // The clean replacement run, timed: the kills fall within it (and a little after, where the run has
    // already finished and the kill finds nothing to cut).
    const started = performance.now();
    expect((await runCli(convertArgs('baseline'))).code).toBe(0);
    cleanMs = performance.now() - started;
    baseline = await state('baseline');
    expect(baseline.data.length).toBeGreaterThan(2);
    expect(baseline.missing).toEqual([]);
    expect(baseline.partitions.length).toBeGreaterThan(2);
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
    await rm(work, { recursive: true, force: true });
  });

  it("a dead run's staging that holds only a temp file of a cut write goes at the next run", async () => {
    const dest = 'dead-staging';
    await cp(backend.destUri('earlier'), backend.destUri(dest), { recursive: true });
    const dir = join(backend.destUri(dest), '_s3logs', 'staging', KEY_DATE, '20240101T000000000Z-deadbeef', 'bucket=x', `dt=${KEY_DATE}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `.part-00000.parquet.staged~${hostname()}~999999999~0a1b.s3logs-tmp`), 'cut short');
    expect((await runCli(convertArgs(dest))).code).toBe(0);
    const after = await state(dest);
    expect({ data: after.data, leftovers: after.leftovers }).toEqual({ data: baseline.data, leftovers: [] });
    await expect(readdir(join(backend.destUri(dest), '_s3logs', 'staging'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it(`${KILLS} seeded moments: every re-run equals the uninterrupted run and leaves nothing behind`, async () => {
    let killed = 0;
    const { moments, seeded } = killMoments(20261201, KILLS);
    for (const [i, share] of moments.entries()) {
      const dest = `kill-${i}`;
      const ms = Math.round(share * 1.1 * cleanMs);
      await cp(backend.destUri('earlier'), backend.destUri(dest), { recursive: true });
      const cut = await runKilledAfter(convertArgs(dest), ms);
      if (cut.signal === 'SIGKILL') killed++;
      else expect(cut.code, `kill ${i} at ${ms} ms: ${cut.stderr}`).toBe(0);
      const again = await runCli(convertArgs(dest));
      expect(again.code, `re-run after the kill at ${ms} ms: ${again.stderr}`).toBe(0);
      const after = await state(dest);
      expect({ at: ms, data: after.data }).toEqual({ at: ms, data: baseline.data });
      expect({ at: ms, leftovers: after.leftovers }).toEqual({ at: ms, leftovers: [] });
      expect({ at: ms, partitions: after.partitions, missing: after.missing }).toEqual({
        at: ms,
        partitions: baseline.partitions,
        missing: [],
      });
      expect((await readTable(after.dir)).map(rowKey).sort()).toEqual((await readTable(baseline.dir)).map(rowKey).sort());
    }
    // Most moments fall inside the run: the test kills, not only waits.
    if (seeded) expect(killed).toBeGreaterThanOrEqual(KILLS / 2);
  }, 1_800_000);
});

describe('SIGKILL at random moments of a compaction, then compact again', () => {
  const K1 = '2024-10-21';
  const K2 = '2024-10-22';
  let backend: Backend;
  let cleanMs = 0;
  const objects = [K1, K2].flatMap((keyDate, i) => [
    ...generateKeyDate({
      seed: 40 + i,
      keyDate,
      layout: 'simple',
      prefix: 'logs/',
      objects: 6,
      minObjectBytes: 8 * 1024,
      maxObjectBytes: 32 * 1024,
      lateFraction: 0.4,
      rejectFraction: 0.003,
    }),
  ]);
  const truth = objects.flatMap((o) => o.rows.map((r) => rowKey(r))).sort();
  const compactArgs = (dest: string) => [
    'compact',
    '--dest',
    backend.destUri(dest),
    '--from',
    '2024-10-20',
    '--to',
    K2,
    '--target-file-mb',
    '0.03',
    '--row-group-rows',
    '50',
    '--quiet',
  ];
  const lake = async (dest: string) => {
    const snap = await backend.snapshot(dest);
    return {
      rows: (await readTable(snap.dir)).map(rowKey).sort(),
      parquet: [...snap.files.keys()].filter((k) => k.endsWith('.parquet')).length,
      leftovers: leftoversOf(snap.files),
      ...(await catalogMissing(snap.dir, snap.files)),
    };
  };
  /** A copy of the converted lake (the local store: a directory). */
  const fresh = async (name: string) => {
    await cp(backend.destUri('converted'), backend.destUri(name), { recursive: true });
    return name;
  };

  beforeAll(async () => {
    backend = await localBackend();
    await backend.putRaw(objects);
    for (const keyDate of [K1, K2]) {
      const args = ['convert', '--source', backend.rawUri + 'logs/', '--dest', backend.destUri('converted'), '--date', keyDate];
      expect((await runCli([...args, '--file-rows', '40', '--quiet'])).code).toBe(0);
    }
    expect((await lake('converted')).rows).toEqual(truth);
    const started = performance.now();
    expect((await runCli(compactArgs(await fresh('clean')))).code).toBe(0);
    cleanMs = performance.now() - started;
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
  });

  it('6 seeded moments: compacting again keeps every row once and leaves nothing behind', async () => {
    const converted = await lake('converted');
    const clean = await lake('clean');
    expect(clean.parquet).toBeLessThan(converted.parquet);
    let killed = 0;
    const { moments, seeded } = killMoments(20261202, 6);
    for (const [i, share] of moments.entries()) {
      const dest = await fresh(`compact-kill-${i}`);
      const ms = Math.round(share * 1.1 * cleanMs);
      const cut = await runKilledAfter(compactArgs(dest), ms);
      if (cut.signal === 'SIGKILL') killed++;
      else expect(cut.code, `kill ${i} at ${ms} ms: ${cut.stderr}`).toBe(0);
      const again = await runCli(compactArgs(dest));
      expect(again.code, `compact again after the kill at ${ms} ms: ${again.stderr}`).toBe(0);
      const after = await lake(dest);
      expect({ at: ms, rows: after.rows.length }).toEqual({ at: ms, rows: truth.length });
      expect(after.rows).toEqual(truth);
      expect({ at: ms, parquet: after.parquet, leftovers: after.leftovers, missing: after.missing }).toEqual({
        at: ms,
        parquet: clean.parquet,
        leftovers: [],
        missing: [],
      });
      expect(after.partitions).toEqual(clean.partitions);
    }
    if (seeded) expect(killed).toBeGreaterThanOrEqual(3);
  }, 1_800_000);
});

describe('SIGKILL at random moments of the last shard of a round, then s3logs commit (or that shard again)', () => {
  const keyDate = '2024-10-12';
  let backend: Backend;
  let work: string;
  let cleanMs = 0;
  let baseline: Awaited<ReturnType<typeof state>>;
  const source = () => join(work, 'raw', 'logs/');
  const shard = (dest: string, i: number) => [
    'convert',
    '--source',
    source(),
    '--dest',
    backend.destUri(dest),
    '--date',
    keyDate,
    '--shard',
    `${i}/2`,
    '--quiet',
  ];
  const commit = (dest: string) => [
    'commit',
    '--source',
    source(),
    '--dest',
    backend.destUri(dest),
    '--date',
    keyDate,
    '--shards',
    '2',
    '--quiet',
  ];
  const state = (dest: string) => lakeState(backend, dest);

  beforeAll(async () => {
    backend = await localBackend();
    work = await mkdtemp(join(tmpdir(), 's3logs-randomkill-shards-'));
    await writeKeyDateToDirectory(join(work, 'raw'), { ...options, seed: 93, keyDate, objects: 12, maxObjectBytes: 64 * 1024 });
    expect((await runCli(shard('baseline', 1))).code).toBe(0);
    const started = performance.now();
    expect((await runCli(shard('baseline', 2))).code).toBe(0);
    cleanMs = performance.now() - started;
    baseline = await state('baseline');
    expect(baseline.leftovers).toEqual([]);
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('3 seeded moments: the round ends as an uninterrupted one, with no shard lock, staging or part left', async () => {
    let killed = 0;
    const { moments, seeded } = killMoments(20261204, 3);
    for (const [i, share] of moments.entries()) {
      const dest = `shard-kill-${i}`;
      expect((await runCli(shard(dest, 1))).code).toBe(0);
      const ms = Math.round(share * 1.1 * cleanMs);
      const cut = await runKilledAfter(shard(dest, 2), ms);
      if (cut.signal === 'SIGKILL') killed++;
      else expect(cut.code, `shard 2 at ${ms} ms: ${cut.stderr}`).toBe(0);
      // What an operator does: commit the round; if shard 2 had not staged its part, commit says to run it.
      const committed = await runCli(commit(dest));
      if (committed.code !== 0) {
        expect(committed.stderr, `commit after the kill at ${ms} ms`).toMatch(/shard 2 of 2 has not staged/);
        const again = await runCli(shard(dest, 2));
        expect(again.code, `shard 2 again after the kill at ${ms} ms: ${again.stderr}`).toBe(0);
      }
      const after = await state(dest);
      expect({ at: ms, data: after.data, leftovers: after.leftovers, missing: after.missing }).toEqual({
        at: ms,
        data: baseline.data,
        leftovers: [],
        missing: [],
      });
      expect(after.partitions).toEqual(baseline.partitions);
      expect((await readTable(after.dir)).map(rowKey).sort()).toEqual((await readTable(baseline.dir)).map(rowKey).sort());
    }
    if (seeded) expect(killed).toBeGreaterThanOrEqual(2);
  }, 1_800_000);
});
