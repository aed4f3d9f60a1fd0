/**
 * group: a publish that changes the manifests of several key dates at once — compaction (one file holds
 * rows of several key dates) and splitting such a file again before one of its key dates replaces rows.
 * commit.ts publishes one key date under its lock; this is the only place that changes files described
 * by more than one manifest.
 *
 * Order (the caller holds the publish lock of every member, taken in key-date order, and has staged the
 * new files under `_s3logs/groups/<run>/staging/`):
 *   1. a copy of the group journal (base manifest version and new manifest of every member, moves,
 *      deletes) goes into every member's directory as `publish-<run>.json`;
 *   2. every member's lock is verified, then every member's manifest is checked to be the base;
 *   3. the commit point: `outcome.json` created conditionally (If-None-Match) as `committed`;
 *   4. the new files are moved into place, each member's manifest is replaced conditionally on its base
 *      (roll forward), then the old files, the staging and the copies are deleted.
 * A crash anywhere leaves the copies. Any later run of a member holds that member's lock, so the group's
 * run lost it: it creates the outcome as `aborted` unless `committed` is there first — whoever writes
 * first decides — and then rolls the group back (nothing was placed before the commit point: the staging
 * goes) or forward (any party may: moves are idempotent and each roll forward is a compare-and-swap from
 * the base, which nobody can change once the outcome is committed, because every publisher of a member
 * finishes the member's pending group copies first). Outcomes are kept: a stalled writer can never
 * re-decide a group whose outcome was removed.
 */
import pLimit from 'p-limit';
import { StorageError } from '../errors.js';
import { failpoint } from '../failpoints.js';
import { clearDeadLock, isHeld, LeaseLock, type LockOwner } from '../lock.js';
import {
  CONTROL_PREFIX,
  lakeKeys,
  readRecord,
  readVersionedRecord,
  recordBody,
  type GroupJournal,
  type GroupOutcome,
  type KeyDateManifest,
  type LockRecord,
} from '../records.js';
import type { Storage } from '../storage/Storage.js';
import { clearPrefix, place } from '../storage/ops.js';
import { newRunId } from '../runId.js';

/** The publish locks of a group's members; some may be borrowed from the caller (a publish that splits). */
export class MemberLocks {
  private constructor(
    readonly locks: ReadonlyMap<string, LeaseLock>,
    private readonly owned: readonly LeaseLock[],
  ) {}

  /** Takes the locks in key-date order (no two groups wait for each other in a cycle); all or none. */
  static async acquire(
    dest: Storage,
    keyDates: readonly string[],
    owner: LockOwner,
    options: { waitMs: number; held?: ReadonlyMap<string, LeaseLock>; signal?: AbortSignal },
  ): Promise<MemberLocks> {
    const locks = new Map<string, LeaseLock>();
    const owned: LeaseLock[] = [];
    try {
      for (const keyDate of [...new Set(keyDates)].sort()) {
        const held = options.held?.get(keyDate);
        if (held) {
          locks.set(keyDate, held);
          continue;
        }
        const lock = await LeaseLock.acquire(dest, lakeKeys.publishLock(keyDate), owner, {
          waitMs: options.waitMs,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        owned.push(lock);
        locks.set(keyDate, lock);
      }
    } catch (error) {
      for (const lock of owned) await lock.release().catch(() => undefined);
      throw error;
    }
    return new MemberLocks(locks, owned);
  }

  get(keyDate: string): LeaseLock {
    const lock = this.locks.get(keyDate);
    if (!lock) throw new Error(`no lock held for key date ${keyDate}`);
    return lock;
  }

  /** Every member's lock at once: on S3 each verify is a request or two, and a group verifies three times. */
  async verifyAll(): Promise<void> {
    await Promise.all([...this.locks.values()].map((lock) => lock.verify()));
  }

  async release(): Promise<void> {
    await Promise.all(this.owned.map((lock) => lock.release().catch(() => undefined)));
  }
}

/** The group lost: another run decided `aborted` (or a member changed) before the commit point. */
export class GroupAbortedError extends Error {
  override readonly name = 'GroupAbortedError';
}

function copyKey(keyDate: string, runId: string): string {
  return lakeKeys.journal(keyDate, runId);
}

/** Creates the outcome unless one exists; returns the one that stands (ours, or the first writer's). */
async function decide(dest: Storage, runId: string, outcome: GroupOutcome['outcome'], by: string): Promise<GroupOutcome['outcome']> {
  const key = lakeKeys.groupOutcome(runId);
  const record: GroupOutcome = { outcome, runId, by, at: new Date().toISOString() };
  await dest.putIfAbsent(key, recordBody(record));
  // Read back: ours also when the answer was lost; the other party's when it was first.
  const standing = await readRecord<GroupOutcome>(dest, key);
  if (!standing) throw new StorageError(`${dest.uri}${key} was written but cannot be read back`, 'io', key);
  return standing.outcome;
}

/**
 * Steps 1–4 for a group whose new files are staged. Returns the seconds readers may see both copies
 * (from the first move to the last old file deleted). Throws GroupAbortedError (after rolling back)
 * when the group cannot commit; LockedError when a member's lock was lost.
 */
export async function publishGroup(dest: Storage, journal: GroupJournal, locks: MemberLocks, concurrency: number): Promise<number> {
  const limit = pLimit(Math.max(1, Math.min(concurrency, 8)));
  try {
    await locks.verifyAll();
    // One serialisation for every copy: the journal holds every member's whole manifest.
    const body = recordBody(journal);
    await Promise.all(
      journal.members.map((m) => limit(() => dest.put(copyKey(m.keyDate, journal.runId), body, { contentType: 'application/json' }))),
    );
    // After the copies: a run that takes a member's lock from here on finds its copy.
    await locks.verifyAll();
    const now = await Promise.all(journal.members.map((m) => limit(() => dest.getVersioned(lakeKeys.manifest(m.keyDate)))));
    journal.members.forEach((m, i) => {
      if (now[i]?.version !== m.baseVersion)
        throw new GroupAbortedError(
          `the manifest of ${m.keyDate} changed while run ${journal.runId} was preparing a ${journal.purpose}; nothing was changed, re-run`,
        );
    });
  } catch (error) {
    // Not committed by anyone: ours to abort (a member's run may decide the same; either way aborted).
    if ((await decide(dest, journal.runId, 'aborted', journal.runId)) === 'aborted') await rollBackGroup(dest, journal);
    throw error;
  }
  failpoint('group-before-outcome');
  if ((await decide(dest, journal.runId, 'committed', journal.runId)) !== 'committed') {
    await rollBackGroup(dest, journal);
    throw new GroupAbortedError(
      `run ${journal.runId} (${journal.purpose}) was stopped by a run of a member key date that took its lock over; nothing was changed, re-run`,
    );
  }
  return finishGroup(dest, journal, concurrency, () => locks.verifyAll());
}

/** What a member's run does with a copy it finds under its own lock: decide if nobody has, then finish or roll back. */
export async function resolveGroup(
  dest: Storage,
  journal: GroupJournal,
  by: string,
  concurrency: number,
  verify: () => Promise<void>,
): Promise<void> {
  const standing = await readRecord<GroupOutcome>(dest, lakeKeys.groupOutcome(journal.runId));
  const outcome = standing?.outcome ?? (await decide(dest, journal.runId, 'aborted', by));
  if (outcome === 'committed') await finishGroup(dest, journal, concurrency, verify);
  else await rollBackGroup(dest, journal);
}

/** Nothing was placed before the commit point: the staging and the copies go. */
async function rollBackGroup(dest: Storage, journal: GroupJournal): Promise<void> {
  await clearPrefix(dest, journal.staging);
  await dest.delete(journal.members.map((m) => copyKey(m.keyDate, journal.runId)));
}

/** Whether a member's manifest is no longer the base: rolled forward (after the commit point nothing else changes it first). */
async function rolledForward(dest: Storage, member: GroupJournal['members'][number]): Promise<boolean> {
  const now = await dest.getVersioned(lakeKeys.manifest(member.keyDate));
  return now !== undefined && now.version !== member.baseVersion;
}

/** Step 4; every part can be repeated, by the group's run or any member's. */
async function finishGroup(dest: Storage, journal: GroupJournal, concurrency: number, verify: () => Promise<void>): Promise<number> {
  const limit = pLimit(Math.max(1, concurrency));
  const done = await Promise.all(journal.members.map((m) => limit(() => rolledForward(dest, m))));
  const pending = journal.members.filter((_m, i) => !done[i]);
  let started: number | undefined;
  if (pending.length > 0) {
    await verify();
    started = performance.now();
    await Promise.all(journal.moves.map(([from, to]) => limit(() => place(dest, from, to))));
    failpoint('group-after-outcome');
    for (let i = 0; i < pending.length; i++) {
      const m = pending[i]!;
      if (i > 0) failpoint('group-between-manifests');
      const body = recordBody(m.manifest);
      const written = await dest.putIfMatch(lakeKeys.manifest(m.keyDate), body, m.baseVersion);
      if (!written && !(await rolledForward(dest, m))) {
        throw new StorageError(
          `the manifest of ${m.keyDate} could not be rolled forward to run ${journal.runId}; re-run`,
          'io',
          lakeKeys.manifest(m.keyDate),
        );
      }
    }
  }
  failpoint('group-before-deletes');
  if (journal.deletes.length) await dest.delete(journal.deletes);
  const window = started === undefined ? 0 : (performance.now() - started) / 1000;
  await clearPrefix(dest, journal.staging);
  await dest.delete(journal.members.map((m) => copyKey(m.keyDate, journal.runId)));
  return window;
}

/** A member's new manifest as the group wrote it (for callers that register the result). */
export function memberManifest(journal: GroupJournal, keyDate: string): KeyDateManifest | undefined {
  return journal.members.find((m) => m.keyDate === keyDate)?.manifest;
}

export async function readGroupJournal(dest: Storage, key: string): Promise<GroupJournal | undefined> {
  return (await readVersionedRecord<GroupJournal>(dest, key))?.record;
}

/**
 * Removes the key dates' publish locks that protect nothing (lease ended, holder gone from this host,
 * damaged; clearDeadLock). A compaction killed after its group published leaves its members' locks,
 * and a later compaction that finds those partitions compact never takes them: without this they stayed
 * until a run of each key date took them over. One listing of the key dates' records; a lock is read
 * only where one exists. Returns how many went.
 */
export async function clearDeadPublishLocks(dest: Storage): Promise<number> {
  const locks = (await dest.list(`${CONTROL_PREFIX}keydates/`)).objects.filter((o) =>
    /^[^/]+\/lock\.json$/.test(o.key.slice(`${CONTROL_PREFIX}keydates/`.length)),
  );
  let cleared = 0;
  for (const o of locks) if (await clearDeadLock(dest, o.key, { runId: newRunId(), purpose: "clear a dead run's lock" })) cleared++;
  return cleared;
}

/**
 * Deletes the staging of group publishes whose run died before step 1 (a SIGKILL between staging a file
 * and writing the journal copies): no outcome, no copy and no lock names it, so no member's run would
 * ever find it. A run stages only while it holds its members' locks and keeps them until its staging is
 * published or gone, so a staging listed first, whose run then has no outcome, no journal copy and no
 * live lock (listed after it, in that order; a lock whose lease ended or whose process is gone on this
 * host is not), belongs to a run that is gone, or one that lost its locks and will abort at its next
 * verify. Returns how many runs' staging it deleted.
 */
export async function sweepDeadGroupStaging(dest: Storage): Promise<number> {
  const root = `${CONTROL_PREFIX}groups/`;
  const runOf = (key: string): string => key.slice(root.length).split('/')[0]!;
  // Keys, and run directories (on the local store a staging that holds only a killed write's temp file).
  const [keys, dirs] = await Promise.all([dest.list(root), dest.list(root, { delimiter: '/' })]);
  const decided = new Set(keys.objects.filter((o) => o.key.endsWith('/outcome.json')).map((o) => runOf(o.key)));
  const dead = new Set([...keys.objects.map((o) => runOf(o.key)), ...dirs.commonPrefixes.map(runOf)].filter((r) => r && !decided.has(r)));
  if (dead.size === 0) return 0;
  const control = (await dest.list(`${CONTROL_PREFIX}keydates/`)).objects.map((o) => o.key);
  for (const key of control) {
    const name = key.slice(key.lastIndexOf('/') + 1);
    if (name.startsWith('publish-') && name.endsWith('.json')) dead.delete(name.slice('publish-'.length, -'.json'.length));
  }
  for (const key of control) {
    if (!key.endsWith('/lock.json') || dead.size === 0) continue;
    let lock: LockRecord | undefined;
    try {
      lock = await readRecord<LockRecord>(dest, key);
    } catch {
      // A lock that cannot be read could be any run's: leave every staging to a later sweep.
      return 0;
    }
    // A lock whose lease ended or whose process is gone (same host) protects nothing.
    if (lock && isHeld(lock)) dead.delete(lock.runId);
  }
  for (const run of dead) await clearPrefix(dest, lakeKeys.groupStaging(run));
  return dead.size;
}
