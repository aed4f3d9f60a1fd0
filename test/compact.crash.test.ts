/**
 * Crash safety of compaction's group publish: SIGKILL `s3logs compact` at each point of it (before the
 * outcome, after the outcome and the moves, between two members' manifests, before the old files are
 * deleted), then either compact again or convert one member key date: the lake holds every row exactly
 * once (DuckDB) and nothing of the interrupted group is left behind.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyDate, type GeneratedObject } from '../scripts/genLogs.js';
import { localBackend, type Backend } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';
import { readTable, rowKey } from './helpers/duck.js';
import { catalogMissing } from './helpers/kills.js';
import { lockRecord } from './helpers/lockRecord.js';

const K1 = '2024-04-01';
const K2 = '2024-04-02';
const POINTS = ['group-before-outcome', 'group-after-outcome', 'group-between-manifests', 'group-before-deletes'] as const;

const generate = (seed: number, keyDate: string): GeneratedObject[] => [
  ...generateKeyDate({
    seed,
    keyDate,
    layout: 'simple',
    prefix: 'logs/',
    objects: 6,
    minObjectBytes: 8 * 1024,
    maxObjectBytes: 32 * 1024,
    lateFraction: 0.4,
    rejectFraction: 0.003,
  }),
];

describe('SIGKILL inside a compaction, then compact again or convert a member key date', () => {
  let backend: Backend;
  const a = generate(31, K1);
  const b = generate(32, K2);
  const truth = [...a, ...b].flatMap((o) => o.rows.map((r) => rowKey(r))).sort();
  const compact = (dest: string, env: Record<string, string> = {}) =>
    runCli(
      [
        'compact',
        '--dest',
        backend.destUri(dest),
        '--from',
        '2024-03-31',
        '--to',
        K2,
        '--target-file-mb',
        '0.03',
        '--row-group-rows',
        '50',
        '--quiet',
      ],
      env,
    );
  const convert = (dest: string, keyDate: string) =>
    runCli([
      'convert',
      '--source',
      backend.rawUri + 'logs/',
      '--dest',
      backend.destUri(dest),
      '--date',
      keyDate,
      '--file-rows',
      '40',
      '--quiet',
    ]);

  /** Rows (DuckDB) and what an interrupted group may leave: journal copies, staging, locks. */
  const lake = async (dest: string) => {
    const snap = await backend.snapshot(dest);
    const rows = (await readTable(snap.dir)).map(rowKey).sort();
    const leftovers = [...snap.files.keys()].filter(
      (k) => /publish-[^/]+\.json$/.test(k) || /lock[^/]*\.json$/.test(k) || k.includes('/staging/') || k.endsWith('.staged'),
    );
    const parquet = [...snap.files.keys()].filter((k) => k.endsWith('.parquet'));
    return { rows, leftovers, parquet };
  };

  beforeAll(async () => {
    backend = await localBackend();
    await backend.putRaw([...a, ...b]);
    for (const keyDate of [K1, K2]) expect((await convert('baseline', keyDate)).code).toBe(0);
    const base = await lake('baseline');
    expect(base.rows).toEqual(truth);
  }, 120_000);
  afterAll(async () => {
    await backend?.close();
  });

  /** A copy of the converted lake (the local store: a directory). */
  const fresh = async (name: string) => {
    await cp(backend.destUri('baseline'), backend.destUri(name), { recursive: true });
    return name;
  };

  it.each(POINTS)(
    'killed at %s: compact again finishes or undoes it; every row once',
    async (point) => {
      const dest = await fresh(`again-${point}`);
      const killed = await compact(dest, { S3LOGS_FAILPOINT: point });
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      // A reader during the crash's aftermath: never a row missing (copies may be doubled until finished).
      const seen = new Set((await lake(dest)).rows);
      expect(truth.filter((row) => !seen.has(row))).toEqual([]);
      const again = await compact(dest);
      expect(again.code, again.stderr).toBe(0);
      const after = await lake(dest);
      expect(after.rows).toEqual(truth);
      expect(after.leftovers).toEqual([]);
      expect(after.parquet.length).toBeLessThan((await lake('baseline')).parquet.length);
    },
    60_000,
  );

  it.each(POINTS)(
    'killed at %s: a convert of one member key date finishes or undoes it; every row once',
    async (point) => {
      const dest = await fresh(`convert-${point}`);
      const killed = await compact(dest, { S3LOGS_FAILPOINT: point });
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      // The group's journal copies name its members; one of them (the last) is converted.
      const copies = (await lake(dest)).leftovers
        .map((k) => /keydates\/(\d{4}-\d{2}-\d{2})\/publish-/.exec(k)?.[1])
        .filter((d): d is string => d !== undefined);
      expect(copies.length).toBeGreaterThan(0);
      const member = copies.sort()[copies.length - 1]!;
      const converted = await convert(dest, member);
      expect(converted.code, converted.stderr).toBe(0);
      const after = await lake(dest);
      expect(after.rows).toEqual(truth);
      // The killed run's locks of other key dates stay until a run of those takes them over (its pid is
      // gone) or a compaction clears them, as the one below does.
      expect(after.leftovers.filter((k) => !(k.endsWith('/lock.json') && !k.includes(`/${member}/`)))).toEqual([]);
      // And a compaction afterwards still keeps every row once.
      expect((await compact(dest)).code).toBe(0);
      expect((await lake(dest)).rows).toEqual(truth);
      expect((await lake(dest)).leftovers).toEqual([]);
    },
    60_000,
  );

  it('killed with its files staged, before the group publish: compacting again deletes that staging (no journal names it)', async () => {
    const dest = await fresh('staged');
    const killed = await compact(dest, { S3LOGS_FAILPOINT: 'group-staged' });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const left = (await lake(dest)).leftovers;
    expect(left.filter((k) => k.endsWith('.staged'))).not.toEqual([]);
    expect(left.filter((k) => /publish-[^/]+\.json$/.test(k))).toEqual([]);
    const again = await compact(dest);
    expect(again.code, again.stderr).toBe(0);
    const after = await lake(dest);
    expect(after.rows).toEqual(truth);
    expect(after.leftovers).toEqual([]);
  }, 60_000);

  it("removes the publish locks of runs that died (a kill after a compaction's last publish), and no live run's", async () => {
    const dest = await fresh('dead-locks');
    expect((await compact(dest)).code).toBe(0);
    // Every partition is compact now: a compaction takes no member lock, so only the sweep meets these.
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
    const planted = {
      [K1]: lockRecord({ purpose: 'compact', pid: deadPid }), // this host, its process gone
      [K2]: lockRecord({ host: 'host-that-died', expiresAt: new Date(Date.now() - 60_000).toISOString() }), // lease over
      '2024-04-03': lockRecord(), // this test's own process: alive, lease running
    };
    for (const [keyDate, body] of Object.entries(planted)) {
      const dir = join(backend.destUri(dest), '_s3logs', 'keydates', keyDate);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'lock.json'), body);
    }
    const again = await compact(dest);
    expect(again.code, again.stderr).toBe(0);
    const after = await lake(dest);
    expect(after.rows).toEqual(truth);
    expect(after.leftovers).toEqual(['_s3logs/keydates/2024-04-03/lock.json']);
  }, 60_000);

  it('killed after its publish, before the catalog follows: compacting again brings the local catalog up to date', async () => {
    const dest = await fresh('catalog-behind');
    const killed = await compact(dest, { S3LOGS_FAILPOINT: 'group-published' });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const listedMissing = async () => {
      const snap = await backend.snapshot(dest);
      return (await catalogMissing(snap.dir, snap.files)).missing;
    };
    // The first partition published; its key dates' catalog entries still name the files it replaced.
    expect((await listedMissing()).length).toBeGreaterThan(0);
    const again = await compact(dest);
    expect(again.code, again.stderr).toBe(0);
    expect(await listedMissing()).toEqual([]);
    expect((await lake(dest)).rows).toEqual(truth);
  }, 60_000);
});
