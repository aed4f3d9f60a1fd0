/**
 * fetch: object bodies, fetched concurrently but handed on in listing order, so the files a key date
 * produces do not depend on which GET finished first (re-runs give identical files).
 *
 * `concurrency` requests stay in flight whenever there is room, not only when the consumer moves on:
 * one slow object at the head must not starve the pipe. Bodies that arrived ahead of the consumer are
 * bounded by `maxBufferedBytes` (and a count), which bounds memory by object size, never by the day.
 * The objects may still be arriving from the listing (an ObjectFeed): fetching starts with the first.
 */
import type { ObjectInfo, Storage } from '../storage/Storage.js';
import { ObjectFeed } from './list.js';

export interface FetchedObject {
  readonly info: ObjectInfo;
  readonly body: Uint8Array;
}

export async function* fetchInOrder(
  storage: Storage,
  source: readonly ObjectInfo[] | ObjectFeed,
  concurrency: number,
  maxBufferedBytes = 32 * 1024 * 1024,
): AsyncGenerator<FetchedObject> {
  const feed = source instanceof ObjectFeed ? source : ObjectFeed.of(source);
  // Grows while the listing goes on.
  const objects = feed.objects;
  const results = new Map<number, { body?: Uint8Array; error?: unknown }>();
  const maxAhead = Math.max(2, concurrency * 8);
  let nextToStart = 0;
  let nextToYield = 0;
  let inFlight = 0;
  let bufferedBytes = 0;
  let wake: (() => void) | undefined;
  let stopped = false;

  const pump = () => {
    while (
      !stopped &&
      inFlight < concurrency &&
      nextToStart < objects.length &&
      nextToStart - nextToYield < maxAhead &&
      // Always allow the object the consumer waits for, whatever is buffered.
      (bufferedBytes + objects[nextToStart]!.size <= maxBufferedBytes || nextToStart === nextToYield)
    ) {
      const index = nextToStart++;
      const info = objects[index]!;
      inFlight++;
      bufferedBytes += info.size;
      storage.get(info.key).then(
        (body) => finish(index, { body }),
        (error: unknown) => finish(index, { error }),
      );
    }
  };
  const finish = (index: number, result: { body?: Uint8Array; error?: unknown }) => {
    inFlight--;
    results.set(index, result);
    wake?.();
    pump();
  };

  const unsubscribe = feed.subscribe(() => {
    pump();
    wake?.();
  });
  try {
    pump();
    for (;;) {
      // A failed listing fails the key date; what was released of it is not worth fetching.
      if (feed.error !== undefined) throw feed.error;
      if (nextToYield >= objects.length) {
        if (feed.done) break;
        await feed.changed();
        continue;
      }
      while (!results.has(nextToYield)) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      const result = results.get(nextToYield)!;
      results.delete(nextToYield);
      const info = objects[nextToYield]!;
      nextToYield++;
      if (result.error !== undefined) throw result.error;
      yield { info, body: result.body! };
      bufferedBytes -= info.size;
      pump();
    }
  } finally {
    // Abandoned (a failure or an interrupt): start nothing new; requests in flight just complete.
    stopped = true;
    unsubscribe();
  }
}
