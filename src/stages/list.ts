/**
 * list: the raw log objects of one key date, for both S3 key layouts (FORMAT.md §4):
 *   simple      <prefix>YYYY-MM-DD-hh-mm-ss-UNIQUE
 *   date-based  <prefix><account>/<region>/<bucket>/YYYY/MM/DD/YYYY-MM-DD-hh-mm-ss-UNIQUE
 * The layout is detected: the simple form is one prefix listing; the date-based form is discovered
 * level by level (account → region → bucket), listing subtrees in parallel.
 *
 * Objects can be handed on while the listing goes on (an ObjectFeed), always in their final key order:
 * a listed range is released once every range before it is complete, so fetching starts after the first
 * page instead of after the last, and what is fetched first never depends on which request finished first.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import { compareKeys } from '../compare.js';
import { StorageError } from '../errors.js';
import type { ObjectInfo, Storage } from '../storage/Storage.js';

export type KeyLayout = 'auto' | 'simple' | 'date-based';

export interface KeyDateListing {
  readonly objects: ObjectInfo[];
  /** Layouts the objects were found in. */
  readonly layouts: Array<'simple' | 'date-based'>;
  readonly listRequests: number;
}

const TIME_SUFFIX = /^-\d{2}-\d{2}-\d{2}-[^/]+$/;
const YEAR = /^\d{4}\/$/;

/**
 * A key date's objects in key order, appended while the listing goes on. `done` once the listing is
 * complete; a listing failure is kept in `error` and thrown by `ready()` / `changed()`.
 */
export class ObjectFeed {
  readonly objects: ObjectInfo[] = [];
  done = false;
  error: unknown = undefined;
  private listeners: Array<() => void> = [];

  /** A feed that is complete from the start. */
  static of(objects: readonly ObjectInfo[]): ObjectFeed {
    const feed = new ObjectFeed();
    feed.append(objects);
    feed.done = true;
    return feed;
  }

  /** The objects of `source` that pass `keep`, as they arrive (a shard's slice of a running listing). */
  static filtered(source: ObjectFeed, keep: (object: ObjectInfo) => boolean): ObjectFeed {
    const feed = new ObjectFeed();
    let seen = 0;
    const pull = () => {
      const fresh = source.objects.slice(seen).filter(keep);
      seen = source.objects.length;
      if (fresh.length) feed.append(fresh);
      if (source.error !== undefined) feed.fail(source.error);
      else if (source.done && !feed.done) feed.finish();
    };
    const off = source.subscribe(() => {
      pull();
      if (source.done) off();
    });
    pull();
    return feed;
  }

  append(objects: readonly ObjectInfo[]): void {
    if (objects.length === 0) return;
    for (const o of objects) this.objects.push(o);
    this.notify();
  }

  finish(): void {
    this.done = true;
    this.notify();
  }

  fail(error: unknown): void {
    this.error = error;
    this.done = true;
    this.notify();
  }

  /** Calls `listener` on every append and at the end; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Resolves on the next append or at the end; throws a listing failure. */
  async changed(): Promise<void> {
    this.throwIfFailed();
    if (this.done) return;
    await new Promise<void>((resolve) => {
      const off = this.subscribe(() => {
        off();
        resolve();
      });
    });
    this.throwIfFailed();
  }

  /** Resolves once there is an object or the listing is complete (possibly empty). */
  async ready(): Promise<void> {
    while (this.objects.length === 0 && !this.done) await this.changed();
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.error !== undefined) throw this.error;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/**
 * Releases the ranges of several disjoint name groups (one per `<base>`) into a feed in key order. Base
 * names never prefix one another, so every key of a group sorts wholly before or after another group's:
 * group order is base order, and inside a group the ranges are contiguous. Groups can be added until
 * discovery is complete; nothing is released before that, as a late group may sort first.
 */
interface NameGroup {
  readonly base: string;
  /** Listed ranges not yet released, by index. */
  readonly ranges: Map<number, ObjectInfo[]>;
  /** Number of ranges, known once the first page is in. */
  count?: number;
  /** Next range to release. */
  next: number;
}

class OrderedRelease {
  private readonly groups: NameGroup[] = [];
  private discovering = true;
  private current = 0;

  constructor(private readonly feed: ObjectFeed) {}

  addGroup(base: string): (index: number, objects: ObjectInfo[], count: number) => void {
    const group: NameGroup = { base, ranges: new Map(), next: 0 };
    this.groups.push(group);
    return (index, objects, count) => {
      group.ranges.set(index, objects);
      group.count = count;
      this.release();
    };
  }

  discovered(): void {
    this.discovering = false;
    this.groups.sort((a, b) => compareKeys(a.base, b.base));
    this.release();
  }

  private release(): void {
    if (this.discovering) return;
    while (this.current < this.groups.length) {
      const group = this.groups[this.current]!;
      for (let objects = group.ranges.get(group.next); objects !== undefined; objects = group.ranges.get(group.next)) {
        group.ranges.delete(group.next++);
        this.feed.append(objects);
      }
      if (group.count === undefined || group.next < group.count) return;
      this.current++;
    }
  }
}

export interface ListKeyDateOptions {
  /** List requests in flight (discovery and first pages). */
  readonly parallel?: number;
  /**
   * Key-range requests in flight after a first page. Fewer when a fetch runs beside the listing: it
   * only has to stay ahead of the GETs, and a server that answers lists slowly (s3rver reads every
   * listed key's metadata file) then still answers the GETs and the lock.
   */
  readonly rangeParallel?: number;
  /** Receives the objects in key order while the listing goes on; finished or failed at the end. */
  readonly feed?: ObjectFeed;
  /** Stops the listing before its next request (the key date failed while the listing went on). */
  readonly signal?: AbortSignal;
}

/**
 * Whether listKeyDate(…, prefix, keyDate, layout) lists `key` (relative to the store root): how a run
 * tells an object that is gone from its source from one it never looked at (another prefix or layout).
 */
export function listsKey(key: string, prefix: string, keyDate: string, layout: KeyLayout): boolean {
  if (!key.startsWith(prefix)) return false;
  const rest = key.slice(prefix.length);
  const named = (name: string) => name.startsWith(keyDate) && TIME_SUFFIX.test(name.slice(keyDate.length));
  if (layout !== 'date-based' && named(rest)) return true;
  if (layout === 'simple') return false;
  // <account>/<region>/<bucket>/YYYY/MM/DD/<name>: up to three levels above the year directories.
  const parts = rest.split('/');
  const levels = parts.length - 4;
  const [y, m, d] = keyDate.split('-');
  return (
    levels >= 0 && levels <= 3 && parts[levels] === y && parts[levels + 1] === m && parts[levels + 2] === d && named(parts[levels + 3]!)
  );
}

type Lister = Pick<Storage, 'list'>;

export async function listKeyDate(
  storage: Storage,
  prefix: string,
  keyDate: string,
  layout: KeyLayout = 'auto',
  options: ListKeyDateOptions = {},
): Promise<KeyDateListing> {
  const feed = options.feed ?? new ObjectFeed();
  try {
    const listing = await listAll(storage, prefix, keyDate, layout, options, feed);
    feed.finish();
    return listing;
  } catch (error) {
    feed.fail(error);
    throw error;
  }
}

async function listAll(
  store: Storage,
  prefix: string,
  keyDate: string,
  layout: KeyLayout,
  options: ListKeyDateOptions,
  feed: ObjectFeed,
): Promise<KeyDateListing> {
  const { signal } = options;
  const storage: Lister = {
    list: (p, o) => {
      signal?.throwIfAborted();
      return store.list(p, o);
    },
  };
  const parallel = options.parallel ?? 16;
  const limit = pLimit(parallel);
  const rangeLimit = options.rangeParallel === undefined || options.rangeParallel >= parallel ? limit : pLimit(options.rangeParallel);
  let requests = 0;
  const layouts: Array<'simple' | 'date-based'> = [];
  const release = new OrderedRelease(feed);

  const simple = async () => {
    const base = prefix + keyDate;
    const found = await listDateNames(storage, base, limit, rangeLimit, () => requests++, release.addGroup(base));
    if (found) layouts.push('simple');
  };

  const [y, m, d] = keyDate.split('-');
  const datePath = `${y}/${m}/${d}/`;
  let dateBasedFound = false;
  const bucketLevel = async (bucketPrefix: string) => {
    const base = bucketPrefix + datePath + keyDate;
    if (await listDateNames(storage, base, limit, rangeLimit, () => requests++, release.addGroup(base))) dateBasedFound = true;
  };
  // depth 0 = the source prefix; up to three levels (account/region/bucket) above the year directories.
  const explore = async (p: string, depth: number): Promise<void> => {
    const page = await directories(p);
    let children = page.commonPrefixes.map((cp) => cp.slice(p.length));
    if (children.length === 0 && page.objects === 0) {
      // Some S3-compatible stores omit "directories" that hold only deeper keys; on AWS this is one
      // extra request for an empty prefix. Find the level below by skipping from child to child.
      children = await skipScan(p);
    }
    if (children.some((c) => YEAR.test(c))) {
      const listed = bucketLevel(p);
      // Awaited below; if discovery fails first, its failure is the one reported.
      listed.catch(() => undefined);
      bucketLevels.push(listed);
      return;
    }
    // Account → region → bucket: three levels at most above the year directories.
    if (depth >= 3) return;
    await Promise.all(children.map((c) => explore(p + c, depth + 1)));
  };
  const bucketLevels: Array<Promise<void>> = [];

  /**
   * One level of "directories" under p. A simple-layout prefix can hold millions of objects beside them;
   * after each page, jump past the rest of that year's `YYYY-…` names instead of paging through them.
   */
  const directories = async (p: string): Promise<{ commonPrefixes: string[]; objects: number }> => {
    const commonPrefixes: string[] = [];
    let objects = 0;
    let startAfter: string | undefined;
    for (;;) {
      requests++;
      const page = await limit(() => storage.list(p, { delimiter: '/', maxKeys: 1000, ...(startAfter ? { startAfter } : {}) }));
      commonPrefixes.push(...page.commonPrefixes);
      objects += page.objects.length;
      if (!page.truncated) return { commonPrefixes, objects };
      const lastObject = page.objects[page.objects.length - 1]?.key ?? '';
      const lastPrefix = page.commonPrefixes[page.commonPrefixes.length - 1] ?? '';
      // biome-ignore lint/complexity/useMathMinMax: keys compared as strings (Math.max would make NaN)
      const last = lastObject > lastPrefix ? lastObject : lastPrefix;
      const year = /^\d{4}-/.exec(last.slice(p.length));
      // U+FFFF encodes above every ASCII byte, so this skips exactly the names starting with `YYYY-`.
      startAfter = year ? p + year[0] + '\uffff' : last;
    }
  };

  /** The "directories" under p, one single-key request per child: jump past each child's keys. */
  const skipScan = async (p: string): Promise<string[]> => {
    const children: string[] = [];
    let startAfter: string | undefined;
    for (;;) {
      requests++;
      const page = await limit(() => storage.list(p, { maxKeys: 1, ...(startAfter ? { startAfter } : {}) }));
      const first = page.objects[0]?.key;
      if (first === undefined) return children;
      const rest = first.slice(p.length);
      const slash = rest.indexOf('/');
      if (slash === -1) {
        startAfter = first;
        continue;
      }
      children.push(rest.slice(0, slash + 1));
      startAfter = p + rest.slice(0, slash + 1) + '\uffff';
    }
  };

  const jobs: Promise<void>[] = [];
  if (layout !== 'date-based') jobs.push(simple());
  for (const job of jobs) job.catch(() => undefined);
  try {
    // Discovery only finds the bucket subtrees; their listings run on while the objects are released.
    if (layout !== 'simple') await explore(prefix, 0);
  } finally {
    release.discovered();
  }
  await Promise.all([...jobs, ...bucketLevels]);
  if (dateBasedFound) layouts.push('date-based');
  const objects = feed.objects;
  for (let i = 1; i < objects.length; i++) {
    if (!(objects[i - 1]!.key < objects[i]!.key)) {
      // Ranges overlap only if the store ignores StartAfter as S3 defines it.
      throw new StorageError(
        `listing ${store.uri}${prefix} returned ${objects[i]!.key} twice or out of key order; the store does not page as S3 does`,
        'io',
        prefix,
      );
    }
  }
  return { objects, layouts, listRequests: requests };
}

const PAGE = 1000;
const MAX_RANGES = 64;

/**
 * Where the rest of a key date's names (`<base>-hh-mm-ss-UNIQUE`) after the first page is split into
 * ranges listed in parallel. The first page tells how dense the names are: delivery-time names spread
 * over the day (estimate from the time reached), event-time names all carry 00-00-00 and a uniformly
 * random hex unique string (estimate from the hex value reached). About one range per expected page,
 * so a store that charges per request sees no more requests than a sequential listing. Ranges are
 * contiguous and the last is open-ended, so every key falls in exactly one whatever the estimate.
 */
export function rangeBoundaries(base: string, lastKey: string): string[] {
  const m = /^-(\d{2})-(\d{2})-(\d{2})-([0-9A-F]{4})?/.exec(lastKey.slice(base.length));
  if (!m) return [];
  const [, hh, mm, ss, hex] = m;
  const seconds = Number(hh) * 3600 + Number(mm) * 60 + Number(ss);
  const eventTime = seconds === 0 && hex !== undefined;
  const reached = eventTime ? (parseInt(hex!, 16) + 1) / 0x10000 : (seconds + 1) / 86_400;
  const ranges = Math.min(MAX_RANGES, Math.ceil((1 / reached - 1) * 1.25));
  const boundaries: string[] = [];
  for (let i = 1; i < ranges; i++) {
    const at = reached + ((1 - reached) * i) / ranges;
    if (eventTime) {
      boundaries.push(
        `${base}-00-00-00-${Math.floor(at * 0x10000)
          .toString(16)
          .toUpperCase()
          .padStart(4, '0')}`,
      );
    } else {
      const t = Math.floor(at * 86_400);
      const pad = (n: number) => String(n).padStart(2, '0');
      boundaries.push(`${base}-${pad(Math.floor(t / 3600))}-${pad(Math.floor(t / 60) % 60)}-${pad(t % 60)}`);
    }
  }
  return boundaries;
}

/**
 * The objects named `<base>-hh-mm-ss-UNIQUE`, handed to `onRange` range by range (range 0 is the first
 * page; `count` ranges in all). A small day is one request; when the first page is full, the rest is
 * listed as key ranges in parallel instead of one long sequential pagination. True if any matched.
 */
async function listDateNames(
  storage: Lister,
  base: string,
  limit: LimitFunction,
  rangeLimit: LimitFunction,
  count: () => void,
  onRange: (index: number, objects: ObjectInfo[], count: number) => void,
): Promise<boolean> {
  let found = false;
  const keep = (objects: ObjectInfo[]) => {
    const kept = objects.filter((o) => TIME_SUFFIX.test(o.key.slice(base.length)));
    // S3 returns pages in key order; a store that does not is still read in key order.
    kept.sort((a, b) => compareKeys(a.key, b.key));
    if (kept.length) found = true;
    return kept;
  };
  count();
  const first = await limit(() => storage.list(base, { maxKeys: PAGE }));
  if (!first.truncated) {
    onRange(0, keep(first.objects), 1);
    return found;
  }
  const last = first.objects[first.objects.length - 1]!.key;
  const bounds = [last, ...rangeBoundaries(base, last).filter((b) => b > last)];
  onRange(0, keep(first.objects), bounds.length + 1);
  await Promise.all(
    bounds.map(async (startAfter, i) => {
      count();
      const endAt = bounds[i + 1];
      const page = await rangeLimit(() => storage.list(base, endAt === undefined ? { startAfter } : { startAfter, endAt }));
      onRange(i + 1, keep(page.objects), bounds.length + 1);
    }),
  );
  return found;
}
