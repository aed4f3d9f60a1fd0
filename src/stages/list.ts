/**
 * list: the raw log objects of one key date, for both S3 key layouts (FORMAT.md §4):
 *   simple      <prefix>YYYY-MM-DD-hh-mm-ss-UNIQUE
 *   date-based  <prefix><account>/<region>/<bucket>/YYYY/MM/DD/YYYY-MM-DD-hh-mm-ss-UNIQUE
 * The layout is detected: the simple form is one prefix listing; the date-based form is discovered
 * level by level (account → region → bucket), listing subtrees in parallel.
 */
import pLimit, { type LimitFunction } from 'p-limit';
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

export async function listKeyDate(storage: Storage, prefix: string, keyDate: string, layout: KeyLayout = 'auto', parallel = 16): Promise<KeyDateListing> {
  const limit = pLimit(parallel);
  let requests = 0;
  const found: ObjectInfo[] = [];
  const layouts: Array<'simple' | 'date-based'> = [];

  const simple = async () => {
    const matches = await listDateNames(storage, prefix + keyDate, limit, () => requests++);
    if (matches.length) layouts.push('simple');
    found.push(...matches);
  };

  const [y, m, d] = keyDate.split('-');
  const datePath = `${y}/${m}/${d}/`;
  const dateBased: ObjectInfo[] = [];
  const bucketLevel = async (bucketPrefix: string) => {
    dateBased.push(...(await listDateNames(storage, bucketPrefix + datePath + keyDate, limit, () => requests++)));
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
      await bucketLevel(p);
      return;
    }
    // Account → region → bucket: three levels at most above the year directories.
    if (depth >= 3) return;
    await Promise.all(children.map((c) => explore(p + c, depth + 1)));
  };

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
  if (layout !== 'simple') jobs.push(explore(prefix, 0));
  await Promise.all(jobs);
  if (dateBased.length) layouts.push('date-based');
  found.push(...dateBased);
  found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { objects: found, layouts, listRequests: requests };
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
      boundaries.push(`${base}-00-00-00-${Math.floor(at * 0x10000).toString(16).toUpperCase().padStart(4, '0')}`);
    } else {
      const t = Math.floor(at * 86_400);
      const pad = (n: number) => String(n).padStart(2, '0');
      boundaries.push(`${base}-${pad(Math.floor(t / 3600))}-${pad(Math.floor(t / 60) % 60)}-${pad(t % 60)}`);
    }
  }
  return boundaries;
}

/**
 * The objects named `<base>-hh-mm-ss-UNIQUE`. A small day is one request; when the first page is full,
 * the rest is listed as key ranges in parallel instead of one long sequential pagination.
 */
async function listDateNames(storage: Storage, base: string, limit: LimitFunction, count: () => void): Promise<ObjectInfo[]> {
  const keep = (objects: ObjectInfo[]) => objects.filter((o) => TIME_SUFFIX.test(o.key.slice(base.length)));
  count();
  const first = await limit(() => storage.list(base, { maxKeys: PAGE }));
  if (!first.truncated) return keep(first.objects);
  const last = first.objects[first.objects.length - 1]!.key;
  const bounds = [last, ...rangeBoundaries(base, last).filter((b) => b > last)];
  const ranges = await Promise.all(
    bounds.map((startAfter, i) => {
      count();
      const endAt = bounds[i + 1];
      return limit(() => storage.list(base, endAt === undefined ? { startAfter } : { startAfter, endAt }));
    }),
  );
  return keep([...first.objects, ...ranges.flatMap((r) => r.objects)]);
}
