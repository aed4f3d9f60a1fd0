/** Ordered concurrent fetch: listing order out, `concurrency` in flight, buffered bodies bounded. */
import { describe, expect, it } from 'vitest';
import { Random } from '../scripts/random.js';
import { fetchInOrder } from '../src/stages/fetch.js';
import { ObjectFeed } from '../src/stages/list.js';
import type { ObjectInfo } from '../src/storage/Storage.js';
import { MemoryStorage } from './helpers/memoryStorage.js';

class SlowStorage extends MemoryStorage {
  inFlight = 0;
  maxInFlight = 0;
  constructor(private readonly delays: Map<string, number>) {
    super();
  }
  override async get(key: string): Promise<Uint8Array> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, this.delays.get(key) ?? 0));
    this.inFlight--;
    if (key === 'broken') throw new Error('cannot read broken');
    return super.get(key);
  }
}

async function setup(count: number, seed: number, size = 10) {
  const random = new Random(seed);
  const delays = new Map<string, number>();
  const storage = new SlowStorage(delays);
  const objects: ObjectInfo[] = [];
  for (let i = 0; i < count; i++) {
    const key = `k${String(i).padStart(4, '0')}`;
    // The first object is the slowest: the others must keep flowing meanwhile.
    delays.set(key, i === 0 ? 60 : random.int(0, 8));
    await storage.put(key, new Uint8Array(size).fill(i % 256));
    objects.push({ key, size, etag: 'e' });
  }
  return { storage, objects };
}

describe('fetchInOrder', () => {
  it('yields in listing order and keeps the requested number of GETs in flight behind a slow head', async () => {
    const { storage, objects } = await setup(200, 1);
    const seen: string[] = [];
    for await (const { info, body } of fetchInOrder(storage, objects, 8)) {
      seen.push(info.key);
      expect(body[0]).toBe(Number(info.key.slice(1)) % 256);
    }
    expect(seen).toEqual(objects.map((o) => o.key));
    expect(storage.maxInFlight).toBe(8);
  });

  it('bounds the bytes fetched ahead of the consumer', async () => {
    const { storage, objects } = await setup(100, 2, 1000);
    let consumed = 0;
    // 5000 bytes of 1000-byte objects: at most 5 fetched ahead, however many sockets are allowed.
    for await (const _ of fetchInOrder(storage, objects, 16, 5000)) {
      consumed++;
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(consumed).toBe(100);
    expect(storage.maxInFlight).toBeLessThanOrEqual(5);
  });

  it('surfaces a failed object at its place in the order', async () => {
    const { storage, objects } = await setup(20, 3);
    objects.splice(10, 0, { key: 'broken', size: 1, etag: 'e' });
    await storage.put('broken', new Uint8Array(1));
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const { info } of fetchInOrder(storage, objects, 4)) seen.push(info.key);
      })(),
    ).rejects.toThrow('cannot read broken');
    expect(seen).toEqual(objects.slice(0, 10).map((o) => o.key));
  });

  it('starts on a feed that is still being listed and fetches what arrives later, in order', async () => {
    const { storage, objects } = await setup(60, 4);
    const feed = new ObjectFeed();
    feed.append(objects.slice(0, 10));
    const seen: string[] = [];
    const consumer = (async () => {
      for await (const { info } of fetchInOrder(storage, feed, 4)) seen.push(info.key);
    })();
    await new Promise((r) => setTimeout(r, 120));
    // The first part was fetched while the listing had not delivered the rest.
    expect(seen).toEqual(objects.slice(0, 10).map((o) => o.key));
    feed.append(objects.slice(10, 35));
    await new Promise((r) => setTimeout(r, 5));
    feed.append(objects.slice(35));
    feed.finish();
    await consumer;
    expect(seen).toEqual(objects.map((o) => o.key));
  });

  it('fails when the listing behind the feed fails, and ends on an empty finished feed', async () => {
    const { storage, objects } = await setup(10, 5);
    const feed = new ObjectFeed();
    feed.append(objects.slice(0, 3));
    const consumer = (async () => {
      for await (const _ of fetchInOrder(storage, feed, 2)) {
        // keep going until the feed fails
      }
    })();
    setTimeout(() => feed.fail(new Error('listing page 2 denied')), 30);
    await expect(consumer).rejects.toThrow('listing page 2 denied');

    const empty = new ObjectFeed();
    empty.finish();
    let count = 0;
    for await (const _ of fetchInOrder(storage, empty, 2)) count++;
    expect(count).toBe(0);
  });
});
