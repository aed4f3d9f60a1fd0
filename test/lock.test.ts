/**
 * The lease lock: exclusive across hosts, recognised by its holder after a lost answer, renewed only
 * conditionally (a holder never overwrites a lock it lost), taken over once a dead holder's lease ends.
 */
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { LeaseLock, LockedError } from '../src/lock.js';
import type { LockRecord } from '../src/records.js';
import { lockRecord } from './helpers/lockRecord.js';
import { MemoryStorage } from './helpers/memoryStorage.js';

const KEY = '_s3logs/keydates/2024-01-01/lock.json';
const owner = (runId: string) => ({ runId, purpose: 'convert' });
const record = lockRecord;
const holder = (storage: MemoryStorage) => JSON.parse(Buffer.from(storage.objects.get(KEY)!.body).toString()) as LockRecord;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A store where the answer to the first conditional write is lost after it happened (S3's retry then gets 412). */
class LosingAnswers extends MemoryStorage {
  lose = { putIfAbsent: 0, putIfMatch: 0 };
  override async putIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
    const done = await super.putIfAbsent(key, body);
    if (done && this.lose.putIfAbsent > 0) {
      this.lose.putIfAbsent--;
      return false;
    }
    return done;
  }
  override async putIfMatch(key: string, body: Uint8Array, version: string): Promise<boolean> {
    const done = await super.putIfMatch(key, body, version);
    if (done && this.lose.putIfMatch > 0) {
      this.lose.putIfMatch--;
      return false;
    }
    return done;
  }
}

afterEach(() => {
  delete process.env.S3LOGS_LOCK_LEASE_SECONDS;
});

describe('LeaseLock', () => {
  it('is exclusive while its holder lives, names the lock and its holder, and is gone after release', async () => {
    const storage = new MemoryStorage();
    const first = await LeaseLock.acquire(storage, KEY, owner('run-1'));
    const refused = LeaseLock.acquire(storage, KEY, { runId: 'run-2', purpose: 'commit of 2 shards' });
    await expect(refused).rejects.toThrow(LockedError);
    await expect(LeaseLock.acquire(storage, KEY, owner('run-2'))).rejects.toThrow(
      new RegExp(
        `memory://test/${KEY} is held by run run-1 \\(convert\\) on ${hostname()}, pid ${process.pid}, since .*; its lease runs to .*any run takes the lock over once the lease ends`,
      ),
    );
    await first.release();
    expect(storage.objects.has(KEY)).toBe(false);
    const second = await LeaseLock.acquire(storage, KEY, owner('run-2'));
    await second.release();
  });

  it('recognises its own lock when the answer to its conditional create was lost', async () => {
    const storage = new LosingAnswers();
    storage.lose.putIfAbsent = 1;
    const lock = await LeaseLock.acquire(storage, KEY, owner('run-lost'));
    expect(holder(storage).runId).toBe('run-lost');
    await lock.verify();
    await lock.release();
    expect(storage.objects.has(KEY)).toBe(false);
  });

  it('takes over at once from a dead process on this host; from another host only once the lease ended', async () => {
    const storage = new MemoryStorage();
    await storage.put(KEY, record({ pid: 2 ** 22 + 12345 }));
    const afterCrash = await LeaseLock.acquire(storage, KEY, owner('run-3'));
    await afterCrash.release();

    await storage.put(KEY, record({ host: 'another-host', pid: 1 }));
    await expect(LeaseLock.acquire(storage, KEY, owner('run-4'))).rejects.toThrow(/on another-host/);

    // A holder on another host died 0.3 s before its lease ends: a waiting run takes over right after.
    await storage.put(KEY, record({ host: 'another-host', pid: 1, expiresAt: new Date(Date.now() + 300).toISOString() }));
    const started = Date.now();
    const taken = await LeaseLock.acquire(storage, KEY, owner('run-5'), { waitMs: 5_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(holder(storage).runId).toBe('run-5');
    await taken.release();
  });

  it('renews its lease while it works, so a live holder is never taken over', async () => {
    process.env.S3LOGS_LOCK_LEASE_SECONDS = '0.4';
    const storage = new MemoryStorage();
    const lock = await LeaseLock.acquire(storage, KEY, owner('run-6'));
    const firstExpiry = holder(storage).expiresAt;
    await sleep(1_000);
    expect(holder(storage).runId).toBe('run-6');
    expect(Date.parse(holder(storage).expiresAt)).toBeGreaterThan(Date.parse(firstExpiry));
    await expect(LeaseLock.acquire(storage, KEY, owner('run-7'))).rejects.toThrow(/held by run run-6/);
    await lock.verify();
    await lock.release();
  });

  it('a renewal whose answer was lost still holds the lock', async () => {
    process.env.S3LOGS_LOCK_LEASE_SECONDS = '0.8';
    const storage = new LosingAnswers();
    const lock = await LeaseLock.acquire(storage, KEY, owner('run-8'));
    storage.lose.putIfMatch = 1;
    // Past the lease's first eighth, verify renews (or the background renewal already did).
    await sleep(150);
    await lock.verify();
    await lock.verify();
    expect(storage.lose.putIfMatch).toBe(0);
    expect(holder(storage).runId).toBe('run-8');
    await lock.release();
  });

  it('verifies a lease renewed within its first eighth by reading it, and renews an older one', async () => {
    process.env.S3LOGS_LOCK_LEASE_SECONDS = '4';
    const storage = new MemoryStorage();
    const lock = await LeaseLock.acquire(storage, KEY, owner('run-11'));
    const writes = () => storage.counts.put;
    const acquired = writes();
    const expiry = holder(storage).expiresAt;
    await lock.verify();
    await lock.verify();
    expect(writes()).toBe(acquired);
    expect(holder(storage).expiresAt).toBe(expiry);
    // Half a second (past 4 s / 8) later, before the background renewal (every second): a conditional write.
    await sleep(600);
    await lock.verify();
    expect(writes()).toBe(acquired + 1);
    expect(Date.parse(holder(storage).expiresAt)).toBeGreaterThan(Date.parse(expiry));
    await lock.release();
  });

  it('a holder whose lock was taken over stops, and never overwrites the new holder', async () => {
    const storage = new MemoryStorage();
    const lock = await LeaseLock.acquire(storage, KEY, owner('run-9'));
    // Another run took it over (say this one stalled past its lease).
    await storage.put(KEY, record({ runId: 'intruder', host: 'another-host', pid: 1 }));
    await expect(lock.verify()).rejects.toThrow(/this run lost memory:\/\/test\/.*lock\.json to run intruder \(convert\) on another-host/);
    await lock.release();
    expect(holder(storage).runId).toBe('intruder');
  });

  it('a lock deleted under its holder is created again by the next renewal', async () => {
    const storage = new MemoryStorage();
    const lock = await LeaseLock.acquire(storage, KEY, owner('run-10'));
    await storage.delete([KEY]);
    await lock.verify();
    expect(holder(storage).runId).toBe('run-10');
    await lock.release();
  });
});
