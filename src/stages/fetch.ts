/**
 * fetch: object bodies, fetched concurrently (p-limit) but handed on in listing order, so the files a
 * key date produces do not depend on which GET finished first (re-runs give identical files). At most
 * `window` bodies are held ahead of the consumer, which bounds memory by object size, not by the day.
 */
import pLimit from 'p-limit';
import type { ObjectInfo, Storage } from '../storage/Storage.js';

export interface FetchedObject {
  readonly info: ObjectInfo;
  readonly body: Uint8Array;
}

export async function* fetchInOrder(storage: Storage, objects: readonly ObjectInfo[], concurrency: number): AsyncGenerator<FetchedObject> {
  const limit = pLimit(concurrency);
  const window = Math.max(2, concurrency * 2);
  const pending: Array<Promise<FetchedObject>> = [];
  let next = 0;
  const start = () => {
    const info = objects[next++]!;
    const promise = limit(async () => ({ info, body: await storage.get(info.key) }));
    // Failures surface when the consumer reaches this object; until then keep them from being unhandled.
    promise.catch(() => undefined);
    pending.push(promise);
  };
  try {
    while (next < objects.length && pending.length < window) start();
    while (pending.length) {
      const fetched = await pending.shift()!;
      if (next < objects.length) start();
      yield fetched;
    }
  } finally {
    limit.clearQueue();
  }
}
