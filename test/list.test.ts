/**
 * Listing a key date: complete and duplicate-free whatever the unique strings look like, parallel key
 * ranges once a day is bigger than one page, and a date-based tree found beside a large simple-layout
 * prefix without paging through it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listKeyDate, ObjectFeed, rangeBoundaries } from '../src/stages/list.js';
import { LocalStorage } from '../src/storage/local.js';
import type { ListOptions } from '../src/storage/Storage.js';

class CountingStorage extends LocalStorage {
  calls: ListOptions[] = [];
  override list(prefix: string, options: ListOptions = {}) {
    this.calls.push(options);
    return super.list(prefix, options);
  }
}

let dir: string;
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function touch(keys: string[]): Promise<void> {
  for (const parent of new Set(keys.map((key) => dirname(join(dir, key))))) await mkdir(parent, { recursive: true });
  for (let i = 0; i < keys.length; i += 256) await Promise.all(keys.slice(i, i + 256).map((key) => writeFile(join(dir, key), '')));
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

describe('listKeyDate', () => {
  it('finds every object of a big day exactly once, in key order, through parallel key ranges', async () => {
    dir = await mkdtemp(join(tmpdir(), 's3logs-list-'));
    const keys: string[] = [];
    // Delivery-time names over the whole day, event-time names all at 00-00-00 with unique strings that
    // are upper hex, lower hex and not hex at all: the ranges must still cover every one of them.
    for (let i = 0; i < 900; i++)
      keys.push(
        `logs/2024-01-29-${pad(i % 24)}-${pad(i % 60)}-${pad((i * 7) % 60)}-${((i * 2654435761) % 2 ** 32).toString(16).toUpperCase().padStart(8, '0')}${pad(i, 4)}`,
      );
    for (let i = 0; i < 900; i++)
      keys.push(`logs/2024-01-29-00-00-00-${['', 'a', 'z', 'G', '_'][i % 5]}${(i * 40503).toString(16).toUpperCase()}${pad(i, 4)}`);
    const others = [
      'logs/2024-01-28-23-59-59-AAAA',
      'logs/2024-01-30-00-00-00-BBBB',
      'logs/2024-01-29-notalog',
      'logs/2024-01-29-00-00-00-X/nested',
    ];
    await touch([...keys, ...others]);
    const storage = new CountingStorage(dir);
    const listing = await listKeyDate(storage, 'logs/', '2024-01-29', 'simple');
    expect(listing.objects.map((o) => o.key)).toEqual([...keys].sort());
    expect(listing.layouts).toEqual(['simple']);
    // First page, then the rest as several key ranges listed in parallel.
    expect(storage.calls.filter((c) => c.startAfter !== undefined).length).toBeGreaterThan(1);
  });

  it('a small day is one request per place', async () => {
    dir = await mkdtemp(join(tmpdir(), 's3logs-list-'));
    await touch(['logs/2024-01-29-10-00-00-AAAA', 'logs/2024-01-29-11-00-00-BBBB']);
    const storage = new CountingStorage(dir);
    const listing = await listKeyDate(storage, 'logs/', '2024-01-29', 'simple');
    expect(listing.objects).toHaveLength(2);
    expect(storage.calls).toHaveLength(1);
  });

  it('finds the date-based tree beside thousands of simple-layout objects without paging through them', async () => {
    dir = await mkdtemp(join(tmpdir(), 's3logs-list-'));
    const simple: string[] = [];
    for (const year of [2022, 2023])
      for (let i = 0; i < 1500; i++) simple.push(`logs/${year}-0${1 + (i % 9)}-1${i % 10}-00-00-00-${pad(i, 6)}`);
    const dated = [
      'logs/123456789012/us-east-1/bucket-a/2024/01/29/2024-01-29-00-00-00-0A1B',
      'logs/123456789012/eu-west-1/bucket-b/2024/01/29/2024-01-29-00-00-00-FFFF',
    ];
    await touch([...simple, ...dated, 'logs/123456789012/us-east-1/bucket-a/2024/01/30/2024-01-30-00-00-00-0000']);
    const storage = new CountingStorage(dir);
    const listing = await listKeyDate(storage, 'logs/', '2024-01-29', 'auto');
    expect(listing.objects.map((o) => o.key)).toEqual(dated.sort());
    expect(listing.layouts).toEqual(['date-based']);
    // Root: first page, a jump past 2022-…, one past 2023-…, then the account directory.
    const rootPages = storage.calls.filter((c) => c.delimiter === '/' && (c.startAfter === undefined || c.startAfter.startsWith('logs/')));
    expect(rootPages.length).toBeLessThanOrEqual(8);
  });

  it('hands objects to a feed in final key order while the listing goes on, across layouts and buckets', async () => {
    dir = await mkdtemp(join(tmpdir(), 's3logs-list-'));
    const keys: string[] = [];
    for (let i = 0; i < 2200; i++) keys.push(`logs/2024-01-29-${pad(Math.floor(i / 120) % 24)}-${pad(i % 60)}-00-${pad(i, 6)}`);
    for (const bucket of ['zeta', 'alpha', 'mid']) {
      for (let i = 0; i < 300; i++)
        keys.push(`logs/123456789012/us-east-1/${bucket}/2024/01/29/2024-01-29-${pad(i % 24)}-${pad(i % 60)}-00-${pad(i, 6)}`);
    }
    await touch(keys);
    const releasedBeforeEnd: number[] = [];
    let ended = false;
    // Later range requests are slow: the first page of the first group must be released before they end.
    let rangesInFlight = 0;
    let maxRangesInFlight = 0;
    class SlowRanges extends LocalStorage {
      override async list(prefix: string, options: ListOptions = {}) {
        const range = options.startAfter !== undefined && options.delimiter === undefined && options.maxKeys === undefined;
        if (!range) return super.list(prefix, options);
        maxRangesInFlight = Math.max(maxRangesInFlight, ++rangesInFlight);
        try {
          await new Promise((r) => setTimeout(r, 40));
          return await super.list(prefix, options);
        } finally {
          rangesInFlight--;
        }
      }
    }
    const feed = new ObjectFeed();
    feed.subscribe(() => {
      if (!ended) releasedBeforeEnd.push(feed.objects.length);
    });
    const listing = await listKeyDate(new SlowRanges(dir), 'logs/', '2024-01-29', 'auto', { parallel: 4, rangeParallel: 2, feed });
    ended = true;
    const sorted = [...keys].sort();
    expect(listing.objects.map((o) => o.key)).toEqual(sorted);
    expect(feed.objects.map((o) => o.key)).toEqual(sorted);
    expect(feed.done).toBe(true);
    expect(listing.layouts.sort()).toEqual(['date-based', 'simple']);
    // Released in several steps, the first well before the end.
    expect(releasedBeforeEnd.length).toBeGreaterThan(3);
    expect(releasedBeforeEnd[0]).toBeLessThan(keys.length / 2);
    // Key ranges after a first page are held to rangeParallel, below the discovery's parallelism.
    expect(maxRangesInFlight).toBe(2);
  });

  it('stops sending list requests once aborted', async () => {
    dir = await mkdtemp(join(tmpdir(), 's3logs-list-'));
    const keys: string[] = [];
    // Event-time names (all 00-00-00, hex unique strings): a dense first page within 1/16 of the hex
    // space, then a sparse rest, which the listing splits into many small key ranges.
    for (let i = 0; i < 1000; i++) keys.push(`logs/2024-01-29-00-00-00-0${(i * 4).toString(16).toUpperCase().padStart(4, '0')}`);
    for (let i = 1; i < 400; i++) keys.push(`logs/2024-01-29-00-00-00-${(0x1000 + i * 150).toString(16).toUpperCase().padStart(4, '0')}0`);
    await touch(keys);
    let ranges = 0;
    class SlowRanges extends LocalStorage {
      override async list(prefix: string, options: ListOptions = {}) {
        if (options.startAfter !== undefined) {
          ranges++;
          await new Promise((r) => setTimeout(r, 30));
        }
        return super.list(prefix, options);
      }
    }
    const complete = await listKeyDate(new SlowRanges(dir), 'logs/', '2024-01-29', 'simple', { parallel: 4, rangeParallel: 1 });
    expect(complete.objects).toHaveLength(keys.length);
    const allRanges = ranges;
    expect(allRanges).toBeGreaterThan(4);

    ranges = 0;
    const stop = new AbortController();
    const feed = new ObjectFeed();
    feed.subscribe(() => stop.abort(new Error('key date failed')));
    await expect(
      listKeyDate(new SlowRanges(dir), 'logs/', '2024-01-29', 'simple', { parallel: 4, rangeParallel: 1, feed, signal: stop.signal }),
    ).rejects.toThrow('key date failed');
    await new Promise((r) => setTimeout(r, 100));
    // The range already sent when the first page was released, and no more.
    expect(ranges).toBeLessThanOrEqual(1);
  });

  it('fails the feed when a listing request fails', async () => {
    dir = await mkdtemp(join(tmpdir(), 's3logs-list-'));
    const keys: string[] = [];
    for (let i = 0; i < 1500; i++) keys.push(`logs/2024-01-29-${pad(i % 24)}-00-00-${pad(i, 6)}`);
    await touch(keys);
    class FailingRange extends LocalStorage {
      override async list(prefix: string, options: ListOptions = {}) {
        if (options.startAfter !== undefined) throw new Error('AccessDenied on the second page');
        return super.list(prefix, options);
      }
    }
    const feed = new ObjectFeed();
    await expect(listKeyDate(new FailingRange(dir), 'logs/', '2024-01-29', 'simple', { parallel: 4, feed })).rejects.toThrow(
      'AccessDenied',
    );
    expect(feed.done).toBe(true);
    await expect(feed.ready()).rejects.toThrow('AccessDenied');
    await expect(feed.changed()).rejects.toThrow('AccessDenied');
  });

  it('sizes the key ranges from how far the first page reached, in order and past the first page', () => {
    for (const last of [
      'l/2024-01-29-00-00-00-0FFF3A',
      'l/2024-01-29-00-00-00-8000',
      'l/2024-01-29-02-00-00-AB',
      'l/2024-01-29-23-59-58-AB',
    ]) {
      const bounds = rangeBoundaries('l/2024-01-29', last);
      expect([...bounds].sort()).toEqual(bounds);
      expect(bounds.every((b) => b > last)).toBe(true);
      expect(bounds.length).toBeLessThan(64);
    }
    // 1/16 of the hex space in the first page: about 15 more pages' worth of ranges.
    expect(rangeBoundaries('l/2024-01-29', 'l/2024-01-29-00-00-00-0FFF3A').length).toBeGreaterThan(12);
    // Two hours of delivery-time names in the first page: the rest of the day in about 14 ranges.
    expect(rangeBoundaries('l/2024-01-29', 'l/2024-01-29-01-59-59-AB').length).toBeGreaterThan(10);
    expect(rangeBoundaries('l/2024-01-29', 'l/2024-01-29-not-a-time')).toEqual([]);
  });
});
