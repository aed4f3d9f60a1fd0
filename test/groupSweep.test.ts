/**
 * sweepDeadGroupStaging: the staging of a group publish whose run died before its journal copies is
 * deleted; a staging that any run could still publish or roll back (a live lock names its run, a
 * journal copy or an outcome exists) is kept.
 */
import { describe, expect, it } from 'vitest';
import { lakeKeys, type LockRecord } from '../src/records.js';
import { sweepDeadGroupStaging } from '../src/stages/group.js';
import { lockRecord } from './helpers/lockRecord.js';
import { MemoryStorage } from './helpers/memoryStorage.js';

const D = '2024-04-01';
const lock = (runId: string, over: Partial<LockRecord> = {}): Buffer => lockRecord({ runId, purpose: 'compact', ...over });
const staged = (run: string) => `${lakeKeys.groupStaging(run)}bucket=b/dt=${D}/part-${D}-g0000-00000.parquet.staged`;

describe('sweepDeadGroupStaging', () => {
  it('deletes only the staging of runs with no outcome, no journal copy and no live lock', async () => {
    const store = new MemoryStorage();
    const runs = ['dead', 'expired', 'live', 'journaled', 'decided'];
    for (const run of runs) await store.put(staged(run), Buffer.from('x'));
    await store.put(lakeKeys.publishLock(D), lock('live'));
    await store.put(
      lakeKeys.publishLock('2024-04-02'),
      lock('expired', { expiresAt: new Date(Date.now() - 1000).toISOString(), host: 'elsewhere' }),
    );
    await store.put(lakeKeys.journal('2024-04-03', 'journaled'), Buffer.from('{}'));
    await store.put(lakeKeys.groupOutcome('decided'), Buffer.from('{"outcome":"aborted"}'));
    expect(await sweepDeadGroupStaging(store)).toBe(2);
    const left = [...store.objects.keys()].filter((k) => k.endsWith('.staged'));
    expect(left.sort()).toEqual([staged('decided'), staged('journaled'), staged('live')]);
    // Nothing to do: nothing written.
    const puts = store.counts.put;
    expect(await sweepDeadGroupStaging(store)).toBe(0);
    expect(store.counts.put).toBe(puts);
  });

  it('deletes nothing when a lock cannot be read (it could be any run)', async () => {
    const store = new MemoryStorage();
    await store.put(staged('dead'), Buffer.from('x'));
    await store.put(lakeKeys.publishLock(D), Buffer.from('not json'));
    expect(await sweepDeadGroupStaging(store)).toBe(0);
    expect(store.objects.has(staged('dead'))).toBe(true);
  });
});
