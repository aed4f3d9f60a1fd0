/** The key-date lock: exclusive, taken over from dead or expired holders, and verified before publishing. */
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { KeyDateLock, LockedError } from '../src/lock.js';
import { MemoryStorage } from './helpers/memoryStorage.js';

const KEY = '_s3logs/keydates/2024-01-01/lock-all.json';
const record = (over: Record<string, unknown>) =>
  Buffer.from(JSON.stringify({ runId: 'other', host: hostname(), pid: process.pid, acquiredAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 60_000).toISOString(), ...over }));

describe('KeyDateLock', () => {
  it('is exclusive while its holder lives, and free again after release', async () => {
    const storage = new MemoryStorage();
    const first = await KeyDateLock.acquire(storage, KEY, 'run-1');
    await expect(KeyDateLock.acquire(storage, KEY, 'run-2')).rejects.toThrow(LockedError);
    await expect(KeyDateLock.acquire(storage, KEY, 'run-2')).rejects.toThrow(/run-1 .* has been converting this since .*wait for it/);
    await first.release();
    const second = await KeyDateLock.acquire(storage, KEY, 'run-2');
    await second.release();
    expect(storage.objects.has(KEY)).toBe(false);
  });

  it('takes over a lock whose process on this host is gone, or that expired', async () => {
    const storage = new MemoryStorage();
    await storage.put(KEY, record({ pid: 2 ** 22 + 12345 }));
    const afterCrash = await KeyDateLock.acquire(storage, KEY, 'run-3');
    await afterCrash.release();
    await storage.put(KEY, record({ host: 'another-host', expiresAt: new Date(Date.now() - 1000).toISOString() }));
    const afterExpiry = await KeyDateLock.acquire(storage, KEY, 'run-4');
    await afterExpiry.release();
  });

  it('does not take a live lock held by another host', async () => {
    const storage = new MemoryStorage();
    await storage.put(KEY, record({ host: 'another-host', pid: 1 }));
    await expect(KeyDateLock.acquire(storage, KEY, 'run-5')).rejects.toThrow(/on another-host/);
  });

  it('verify() fails clearly when another run took the lock (a store that ignores conditional writes)', async () => {
    const storage = new MemoryStorage();
    const lock = await KeyDateLock.acquire(storage, KEY, 'run-6');
    await storage.put(KEY, record({ runId: 'intruder' }));
    await expect(lock.verify()).rejects.toThrow(/another run \(intruder/);
    await lock.release();
    expect(storage.objects.has(KEY)).toBe(true);
  });
});
