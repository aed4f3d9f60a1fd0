/**
 * SIGKILL at random moments of a run on S3 (s3rver behind the proxy that plays conditional writes) that
 * replaces an earlier one, then run again: the lake equals an uninterrupted run's byte for byte, lists
 * only files that exist, and holds no staging, journal or lock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyDate } from '../scripts/genLogs.js';
import { s3Backend, type Backend } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';
import { readTable, rowKey } from './helpers/duck.js';
import { killMoments, lakeState, runKilledAfter } from './helpers/kills.js';

describe('SIGKILL at random moments of a run on S3 that replaces an earlier one, then re-run', () => {
  const keyDate = '2024-10-30';
  let backend: Backend;
  let baseline: { data: Array<[string, string]>; rows: string[] };
  let cleanMs = 0;
  const objects = [
    ...generateKeyDate({
      seed: 92,
      keyDate,
      layout: 'simple',
      prefix: 'logs/',
      objects: 12,
      maxObjectBytes: 96 * 1024,
      lateFraction: 0.05,
      rejectFraction: 0.002,
    }),
  ];
  const lastThree = objects
    .map((o) => o.key)
    .sort()
    .slice(-3);
  const args = (dest: string) => [
    'convert',
    '--source',
    backend.rawUri + 'logs/',
    '--dest',
    backend.destUri(dest),
    '--date',
    keyDate,
    '--quiet',
    ...backend.args,
  ];
  /** The source before its last three objects arrived (deleted, then put back: S3's ETag is their MD5). */
  const earlier = async (dest: string) => {
    for (const key of lastThree) await backend.deleteRaw(key);
    try {
      expect((await runCli(args(dest), backend.env)).code).toBe(0);
    } finally {
      await backend.putRaw(objects.filter((o) => lastThree.includes(o.key)));
    }
  };
  const state = (dest: string) => lakeState(backend, dest);

  beforeAll(async () => {
    backend = await s3Backend();
    await backend.putRaw(objects);
    await earlier('baseline');
    const started = performance.now();
    expect((await runCli(args('baseline'), backend.env)).code).toBe(0);
    cleanMs = performance.now() - started;
    const clean = await state('baseline');
    expect(clean.missing).toEqual([]);
    baseline = { data: clean.data, rows: (await readTable(clean.dir)).map(rowKey).sort() };
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
  });

  it("a dead run's staging, two levels deep as staged files are, goes at the next run (s3rver lists no common prefix for it)", async () => {
    const dest = 's3-dead-staging';
    const dead = `_s3logs/staging/${keyDate}/20240101T000000000Z-deadbeef/bucket=x/dt=${keyDate}/part-00000.parquet.staged`;
    await backend.putDest(dest, dead, Buffer.from('not parquet'));
    expect((await runCli(args(dest), backend.env)).code).toBe(0);
    const after = await state(dest);
    expect({ data: after.data, leftovers: after.leftovers }).toEqual({ data: baseline.data, leftovers: [] });
  }, 60_000);

  it('4 seeded moments: every re-run equals the uninterrupted run and leaves nothing behind', async () => {
    let killed = 0;
    const { moments, seeded } = killMoments(20261203, 4);
    for (const [i, share] of moments.entries()) {
      const dest = `s3-kill-${i}`;
      const ms = Math.round(share * 1.1 * cleanMs);
      await earlier(dest);
      const cut = await runKilledAfter(args(dest), ms, backend.env);
      if (cut.signal === 'SIGKILL') killed++;
      else expect(cut.code, `kill ${i} at ${ms} ms: ${cut.stderr}`).toBe(0);
      const again = await runCli(args(dest), backend.env);
      expect(again.code, `re-run after the kill at ${ms} ms: ${again.stderr}`).toBe(0);
      const after = await state(dest);
      expect({ at: ms, data: after.data, leftovers: after.leftovers, missing: after.missing }).toEqual({
        at: ms,
        data: baseline.data,
        leftovers: [],
        missing: [],
      });
      expect((await readTable(after.dir)).map(rowKey).sort()).toEqual(baseline.rows);
    }
    // The moments fall at 6%, 23%, 46% and 102% of the clean run's time: at least the first two always kill.
    if (seeded) expect(killed).toBeGreaterThanOrEqual(2);
  }, 1_800_000);
});
