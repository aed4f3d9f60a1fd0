/**
 * list: the raw log objects of one key date, for both S3 key layouts (FORMAT.md §4):
 *   simple      <prefix>YYYY-MM-DD-hh-mm-ss-UNIQUE
 *   date-based  <prefix><account>/<region>/<bucket>/YYYY/MM/DD/YYYY-MM-DD-hh-mm-ss-UNIQUE
 * The layout is detected: the simple form is one prefix listing; the date-based form is discovered
 * level by level (account → region → bucket), listing subtrees in parallel.
 */
import pLimit from 'p-limit';
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
  const list = (p: string, delimiter?: string) => {
    requests++;
    return limit(() => storage.list(p, delimiter ? { delimiter } : {}));
  };
  const found: ObjectInfo[] = [];
  const layouts: Array<'simple' | 'date-based'> = [];

  const simple = async () => {
    const page = await list(prefix + keyDate);
    const matches = page.objects.filter((o) => TIME_SUFFIX.test(o.key.slice(prefix.length + keyDate.length)));
    if (matches.length) layouts.push('simple');
    found.push(...matches);
  };

  const [y, m, d] = keyDate.split('-');
  const datePath = `${y}/${m}/${d}/`;
  const dateBased: ObjectInfo[] = [];
  const bucketLevel = async (bucketPrefix: string) => {
    const page = await list(bucketPrefix + datePath);
    for (const o of page.objects) {
      const name = o.key.slice(bucketPrefix.length + datePath.length);
      if (name.startsWith(keyDate) && TIME_SUFFIX.test(name.slice(keyDate.length))) dateBased.push(o);
    }
  };
  // depth 0 = the source prefix; up to three levels (account/region/bucket) above the year directories.
  const explore = async (p: string, depth: number): Promise<void> => {
    const page = await list(p, '/');
    let children = page.commonPrefixes.map((cp) => cp.slice(p.length));
    if (children.length === 0 && page.objects.length === 0) {
      // Some S3-compatible stores omit "directories" that hold only deeper keys; on AWS this is one
      // extra request for an empty prefix. Derive the level below from a full listing instead.
      const deep = await list(p);
      children = [...new Set(deep.objects.map((o) => o.key.slice(p.length)).filter((k) => k.includes('/')).map((k) => k.slice(0, k.indexOf('/') + 1)))];
    }
    if (children.some((c) => YEAR.test(c))) {
      await bucketLevel(p);
      return;
    }
    // Account → region → bucket: three levels at most above the year directories.
    if (depth >= 3) return;
    await Promise.all(children.map((c) => explore(p + c, depth + 1)));
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
