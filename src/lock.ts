/**
 * A lease lock on an object in the destination store, for one publisher of a key date (or one shard)
 * at a time, across hosts.
 *
 * - Taken with a conditional create (If-None-Match: *). Every acquisition has a random token, so a
 *   holder recognises its own lock when it reads it back — also when the answer to its PUT was lost
 *   and the retried PUT found the object its first attempt had created.
 * - The lease is short (LEASE_MS, 60 s by default) and renewed every quarter of it while the holder
 *   works, with a conditional replace (If-Match on the version the holder last saw): a renewal never
 *   overwrites a lock another run took over, and a holder that finds its lock gone or taken knows it
 *   lost it. Callers verify() before every step others would see: it reads the lock, and renews it
 *   unless this holder renewed it within the last eighth of the lease (a group publish verifies every
 *   member's lock three times within milliseconds; each renewal is a conditional write).
 * - A lock whose lease ran out is taken over by any host with a conditional replace of exactly the
 *   expired version. A lock of a process on this host that no longer exists is taken over at once.
 * Clocks of the hosts are assumed to agree within a few seconds (NTP); the lease is what makes a dead
 * holder's lock free for every other host, whatever its pid meant.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { LockedError } from './errors.js';
import { writerGoneHere } from './processes.js';
import { readVersionedRecord, recordBody, type LockRecord } from './records.js';
import type { Storage } from './storage/Storage.js';

/** Lease length; S3LOGS_LOCK_LEASE_SECONDS overrides it (tests, or stores with slow writes). */
export function leaseMs(): number {
  const seconds = Number(process.env.S3LOGS_LOCK_LEASE_SECONDS);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 60_000;
}

/** Defined in src/errors.ts with the other error classes; exported here too for existing importers. */
export { LockedError };

function isFree(record: LockRecord | undefined, now: number): boolean {
  if (record?.kind !== 's3logs/lock' || !(Date.parse(record.expiresAt) > now)) return true;
  // Same host: a pid that no longer exists is a holder that died (a SIGKILLed run).
  return writerGoneHere(record.host, record.pid, hostname()) === true;
}

/** Whether a lock record still protects its run: its lease has not ended and its process is not known to be gone. */
export function isHeld(record: LockRecord | undefined, now = Date.now()): boolean {
  return record !== undefined && !isFree(record, now);
}

export function describeHolder(record: LockRecord): string {
  return `run ${record.runId} (${record.purpose}) on ${record.host}, pid ${record.pid}, since ${record.acquiredAt}; its lease runs to ${record.expiresAt}`;
}

async function readLock(storage: Storage, key: string): Promise<{ record: LockRecord | undefined; version: string } | undefined> {
  try {
    const found = await readVersionedRecord<LockRecord>(storage, key);
    return found && { record: found.record, version: found.version };
  } catch (error) {
    // A damaged lock object is nobody's lock: it can be replaced conditionally like an expired one.
    const found = await storage.getVersioned(key);
    if (found) return { record: undefined, version: found.version };
    throw error;
  }
}

export interface LockOwner {
  readonly runId: string;
  readonly purpose: string;
}

export interface AcquireOptions {
  /** Keep trying this long while a live holder has the lock (0: fail at once). */
  readonly waitMs?: number;
  readonly signal?: AbortSignal;
}

export class LeaseLock {
  private timer: NodeJS.Timeout | undefined;
  private lost: LockRecord | 'gone' | undefined;
  private readonly acquiredAt = new Date().toISOString();
  private renewing: Promise<void> | undefined;
  /** performance.now() when the lock body last confirmed ours was made (its expiresAt is lease after). */
  private renewedAt = -Infinity;

  private constructor(
    private readonly storage: Storage,
    readonly key: string,
    private readonly owner: LockOwner,
    private readonly token: string,
    private readonly lease: number,
    private version: string,
  ) {}

  get uri(): string {
    return this.storage.uri + this.key;
  }

  /** Takes the lock, or throws LockedError naming the holder (after waiting up to `waitMs`). */
  static async acquire(storage: Storage, key: string, owner: LockOwner, options: AcquireOptions = {}): Promise<LeaseLock> {
    const lease = leaseMs();
    const token = randomBytes(12).toString('hex');
    const deadline = Date.now() + (options.waitMs ?? 0);
    const body = () => LeaseLock.body(owner, token, lease, new Date().toISOString());
    for (let contended = 0; ; ) {
      options.signal?.throwIfAborted();
      // Read first: a live holder's lock is never written over, even on a store that ignores conditions.
      const current = await readLock(storage, key);
      // Ours: an earlier attempt's write whose answer was lost.
      if (current?.record?.token === token) return LeaseLock.start(storage, key, owner, token, lease, current.version, -Infinity);
      if (current?.record && !isFree(current.record, Date.now())) {
        const holder = current.record;
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw LeaseLock.lockedError(storage, key, holder);
        const untilExpiry = Date.parse(holder.expiresAt) - Date.now();
        await sleep(Math.max(200, Math.min(remaining, 2_000, untilExpiry + 50)), options.signal);
        continue;
      }
      // Free, or its holder is gone: create it, or replace exactly the version we judged.
      const writtenAt = performance.now();
      if (current) await storage.putIfMatch(key, body(), current.version);
      else await storage.putIfAbsent(key, body());
      // Read back: ours also when the answer was lost; another run's when it won the race.
      const after = await readLock(storage, key);
      if (after?.record?.token === token) return LeaseLock.start(storage, key, owner, token, lease, after.version, writtenAt);
      if (++contended >= 5) throw LeaseLock.lockedError(storage, key, after?.record);
    }
  }

  private static lockedError(storage: Storage, key: string, holder: LockRecord | undefined): LockedError {
    const uri = storage.uri + key;
    return new LockedError(
      holder
        ? `${uri} is held by ${describeHolder(holder)} (renewed while it works). Wait for it and re-run; if that run died, any run takes the lock over once the lease ends`
        : `${uri} could not be taken: other runs kept taking it; re-run`,
      uri,
      holder,
    );
  }

  private static body(owner: LockOwner, token: string, lease: number, acquiredAt: string): Buffer {
    const now = Date.now();
    const record: LockRecord = {
      kind: 's3logs/lock',
      token,
      runId: owner.runId,
      purpose: owner.purpose,
      host: hostname(),
      pid: process.pid,
      acquiredAt,
      renewedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + lease).toISOString(),
    };
    return recordBody(record);
  }

  private static start(
    storage: Storage,
    key: string,
    owner: LockOwner,
    token: string,
    lease: number,
    version: string,
    writtenAt: number,
  ): LeaseLock {
    const lock = new LeaseLock(storage, key, owner, token, lease, version);
    lock.renewedAt = writtenAt;
    lock.timer = setInterval(() => void lock.renew().catch(() => undefined), Math.max(250, lease / 4));
    lock.timer.unref();
    return lock;
  }

  /** One renewal at a time; a renewal that fails for a storage error leaves the lease to run on. */
  private renew(): Promise<void> {
    this.renewing ??= this.renewOnce().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  private async renewOnce(): Promise<void> {
    if (this.lost) return;
    const started = performance.now();
    const body = LeaseLock.body(this.owner, this.token, this.lease, this.acquiredAt);
    const replaced = await this.storage.putIfMatch(this.key, body, this.version);
    const current = await readLock(this.storage, this.key);
    if (current?.record?.token === this.token) {
      // Renewed (or the replace's answer was lost and it happened anyway).
      this.version = current.version;
      // Only a write known to have happened dates the lease (a lost answer renews again next time).
      if (replaced) this.renewedAt = started;
      return;
    }
    if (!current && !replaced && (await this.storage.putIfAbsent(this.key, body))) {
      // Deleted under us (a release racing a takeover): ours again if nobody else took it meanwhile.
      const again = await readLock(this.storage, this.key);
      if (again?.record?.token === this.token) {
        this.version = again.version;
        return;
      }
    }
    this.lost = current?.record ?? 'gone';
    if (this.timer) clearInterval(this.timer);
  }

  /** Renews the lease now; throws LockedError when another run took the lock (this run must stop). */
  async verify(): Promise<void> {
    // A lease renewed within its first eighth has most of it left: reading the lock tells whether it is
    // still ours (only a write with our token makes that version) without writing it again.
    if (!this.lost && this.renewing === undefined && performance.now() - this.renewedAt < this.lease / 8) {
      const current = await readLock(this.storage, this.key);
      if (current?.record?.token === this.token && current.version === this.version) return;
    }
    await this.renew();
    if (this.lost) {
      const holder = this.lost === 'gone' ? undefined : this.lost;
      throw new LockedError(
        `this run lost ${this.uri}${holder ? ` to ${describeHolder(holder)}` : ''} (its lease ran out while it was stalled); it stopped before changing anything more. Re-run the key date`,
        this.uri,
        holder,
      );
    }
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.renewing?.catch(() => undefined);
    if (this.lost) return;
    const current = await readLock(this.storage, this.key).catch(() => undefined);
    if (current?.record?.token === this.token) await this.storage.delete([this.key]);
    this.lost = 'gone';
  }
}

/**
 * Removes the lock at `key` when it protects nothing: its lease ended, its process is gone from this
 * host, or it is damaged. It is taken over as any run would take it (a conditional write of exactly the
 * version judged), then released; a live holder's lock, or one another run takes meanwhile, stays. For
 * a run that will not take this lock itself but cleans up after runs that died (a compaction, a shard
 * round's commit). True when a lock was removed.
 */
export async function clearDeadLock(storage: Storage, key: string, owner: LockOwner): Promise<boolean> {
  const current = await readLock(storage, key);
  if (!current || (current.record && isHeld(current.record))) return false;
  let lock: LeaseLock;
  try {
    lock = await LeaseLock.acquire(storage, key, owner, { waitMs: 0 });
  } catch (error) {
    if (error instanceof LockedError) return false;
    throw error;
  }
  await lock.release();
  return true;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
