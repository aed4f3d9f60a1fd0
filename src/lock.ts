/**
 * One run per key date (per shard) at a time: a lock object created with a conditional write, with an
 * expiry that a live holder keeps pushing forward. A lock whose holder is gone — expired, or held by a
 * process on this host that no longer exists (a SIGKILLed run) — is taken over. Because some
 * S3-compatible servers ignore conditional writes, the holder reads the lock back after taking it and
 * again before it publishes anything, and fails clearly if another run holds it.
 */
import { hostname } from 'node:os';
import { StorageError } from './errors.js';
import type { Storage } from './storage/Storage.js';

export interface LockRecord {
  readonly runId: string;
  readonly host: string;
  readonly pid: number;
  readonly acquiredAt: string;
  readonly expiresAt: string;
}

export class LockedError extends Error {
  override readonly name = 'LockedError';
  constructor(
    message: string,
    readonly holder: LockRecord,
  ) {
    super(message);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isStale(record: LockRecord, now: number): boolean {
  if (Date.parse(record.expiresAt) <= now) return true;
  return record.host === hostname() && record.pid !== process.pid && !alive(record.pid);
}

async function read(storage: Storage, key: string): Promise<LockRecord | undefined> {
  try {
    return JSON.parse(Buffer.from(await storage.get(key)).toString('utf8')) as LockRecord;
  } catch (error) {
    if (error instanceof StorageError && error.code === 'not_found') return undefined;
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

export class KeyDateLock {
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly storage: Storage,
    readonly key: string,
    readonly runId: string,
    private readonly ttlMs: number,
  ) {}

  /** Takes the lock or throws LockedError naming the holder. */
  static async acquire(storage: Storage, key: string, runId: string, ttlMs = 15 * 60_000): Promise<KeyDateLock> {
    const lock = new KeyDateLock(storage, key, runId, ttlMs);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await storage.putIfAbsent(key, lock.body())) {
        await lock.verify();
        lock.timer = setInterval(() => void lock.refresh(), Math.max(1000, ttlMs / 3));
        lock.timer.unref();
        return lock;
      }
      const holder = await read(storage, key);
      if (holder && !isStale(holder, Date.now())) {
        throw new LockedError(
          `run ${holder.runId} on ${holder.host} (pid ${holder.pid}) has been converting this since ${holder.acquiredAt}; ` +
            `wait for it, or if that run is gone delete ${storage.uri}${key} (it expires at ${holder.expiresAt})`,
          holder,
        );
      }
      // The holder is gone: remove its lock and try to take it again.
      await storage.delete([key]);
    }
    throw new LockedError(`could not take ${storage.uri}${key}: other runs keep taking it`, { runId: '?', host: '?', pid: 0, acquiredAt: '?', expiresAt: '?' });
  }

  private body(): Buffer {
    const now = Date.now();
    const record: LockRecord = {
      runId: this.runId,
      host: hostname(),
      pid: process.pid,
      acquiredAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.ttlMs).toISOString(),
    };
    return Buffer.from(JSON.stringify(record));
  }

  /** Throws when another run holds the lock now (it was taken over, or the conditional write was ignored). */
  async verify(): Promise<void> {
    const holder = await read(this.storage, this.key);
    if (holder?.runId !== this.runId) {
      throw new LockedError(
        `another run (${holder ? `${holder.runId} on ${holder.host}` : 'unknown'}) took ${this.storage.uri}${this.key}; this run stops without publishing`,
        holder ?? { runId: '?', host: '?', pid: 0, acquiredAt: '?', expiresAt: '?' },
      );
    }
  }

  private async refresh(): Promise<void> {
    try {
      const holder = await read(this.storage, this.key);
      if (holder?.runId === this.runId) await this.storage.put(this.key, this.body());
    } catch {
      // A missed refresh only shortens the lock; verify() before publishing decides.
    }
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const holder = await read(this.storage, this.key).catch(() => undefined);
    if (holder?.runId === this.runId) await this.storage.delete([this.key]);
  }
}
