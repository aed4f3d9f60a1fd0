/**
 * Source checks before any work (issue #13): a --source that holds no S3 access log object a run could
 * list — for any date, in the layouts it looks for — is a usage error, one line naming --source, what was
 * looked for and the likeliest fix (a prefix one or two levels too high, a bucket root, the other layout,
 * a file instead of a folder), instead of a run that converts nothing and exits 0. A key date with no
 * objects in a source that does hold logs is not this check's business: that run says so and exits 0.
 *
 * Cheap by construction. On S3 one ListObjectsV2 page of whole keys under the prefix (MaxKeys 1000)
 * nearly always decides: a log key is among the first 1000, or the prefix holds fewer keys and every one
 * was seen. Otherwise — and on a local folder, where a key listing would walk and stat the whole tree —
 * the folders are explored level by level as list.ts discovers the date-based layout (`directories`,
 * up to three levels above the year), at most MAX_REQUESTS listings in all. A source is only failed when
 * the check saw everything a run could list; whatever the budget leaves undecided passes.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError, StorageError } from './errors.js';
import { lakeKeys } from './records.js';
import type { SourceLocation } from './pipeline.js';
import { listsKey, type KeyLayout } from './stages/list.js';
import type { ListPage, Storage } from './storage/Storage.js';

/** Store errors that are the setup's (bucket, region, credentials, permissions), not one key date's. */
const SETUP_ERRORS = new Set(['no_such_bucket', 'invalid_region', 'access_denied', 'bucket_owner_mismatch']);

/** List requests one check may make (the S3 key page included). */
export const MAX_REQUESTS = 16;
const PAGE = 1000;
/** A log object name, possibly after a file-name prefix (`emr2021-11-08-13-10-55-E99D…`). */
const LOG_NAME = /^(.*?)((\d{4})-(\d{2})-(\d{2})-\d{2}-\d{2}-\d{2}-[^/]+)$/;
const YEAR = /^\d{4}$/;
const TWO_DIGITS = /^\d{2}$/;
/** Levels a run looks through above the year directories (account/region/bucket), as list.ts. */
const ABOVE_YEAR = 3;
/** How much deeper than that log names are looked for, to suggest the prefix they are under. */
const DEEPER = 2;

export interface SourceCheck {
  /** A key a run of some key date lists (under the given layout). */
  readonly found: boolean;
  /** Every place such a key could be was listed: `found: false` is then a fact, not a guess. */
  readonly complete: boolean;
  /** Log objects exist, but only in the layout the run does not look for. */
  readonly otherLayout?: 'simple' | 'date-based';
  /** Prefixes (relative to the store root) under which log names were seen, most likely first. */
  readonly suggestions: string[];
  /** The prefix names an object itself (--source is a file, or one S3 object). */
  readonly sourceIsObject: boolean;
  /** A few keys that are not log objects (relative to the prefix). */
  readonly others: string[];
  readonly objectsSeen: number;
  readonly listRequests: number;
}

export interface CheckSourceOptions {
  readonly maxRequests?: number;
}

/**
 * Throws ConfigError (flag --source) when the source holds no log object a run could list. Store errors
 * other than a missing bucket are left to the run, which reports them per key date as before.
 */
export async function checkSource(
  source: SourceLocation,
  layout: KeyLayout,
  flagValue: string,
  options: CheckSourceOptions = {},
): Promise<void> {
  let check: SourceCheck;
  try {
    check = await inspectSource(source.storage, source.prefix, layout, options);
  } catch (error) {
    if (!(error instanceof StorageError)) throw error;
    // What no key date can get past is configuration: say it once, exit 2.
    if (SETUP_ERRORS.has(error.code)) throw new ConfigError(`--source ${flagValue}: ${oneLine(error.message)}`, '--source');
    return;
  }
  if (check.found || !check.complete) return;
  throw new ConfigError(explain(check, source, layout, flagValue), '--source');
}

/** What the source holds, in at most `maxRequests` list requests (store errors propagate). */
export async function inspectSource(
  storage: Storage,
  prefix: string,
  layout: KeyLayout,
  options: CheckSourceOptions = {},
): Promise<SourceCheck> {
  const budget = options.maxRequests ?? MAX_REQUESTS;
  const state = {
    found: false,
    otherLayout: undefined as 'simple' | 'date-based' | undefined,
    suggestions: [] as string[],
    sourceIsObject: false,
    others: [] as string[],
    objectsSeen: 0,
    requests: 0,
  };
  const done = (complete: boolean): SourceCheck => ({
    found: state.found,
    complete,
    ...(state.otherLayout ? { otherLayout: state.otherLayout } : {}),
    suggestions: state.suggestions,
    sourceIsObject: state.sourceIsObject,
    others: state.others,
    objectsSeen: state.objectsSeen,
    listRequests: state.requests,
  });
  const list = (p: string, delimiter: boolean): Promise<ListPage> => {
    state.requests++;
    return storage.list(p, { maxKeys: PAGE, ...(delimiter ? { delimiter: '/' } : {}) });
  };
  const examine = (key: string): void => {
    state.objectsSeen++;
    const verdict = classify(key, prefix, layout);
    if (verdict.kind === 'listed') state.found = true;
    else if (verdict.kind === 'other-layout') state.otherLayout ??= verdict.layout;
    else if (verdict.kind === 'elsewhere') {
      if (!state.suggestions.includes(verdict.prefix)) state.suggestions.push(verdict.prefix);
    } else if (state.others.length < 3 && !state.others.includes(key.slice(prefix.length))) state.others.push(key.slice(prefix.length));
    if (key === prefix) state.sourceIsObject = true;
  };

  // S3: one page of whole keys. Not on a local folder, where it would walk and stat the whole tree.
  const s3 = storage.uri.startsWith('s3://');
  if (s3) {
    const page = await list(prefix, false);
    for (const o of page.objects) {
      examine(o.key);
      if (state.found) return done(true);
    }
    if (!page.truncated) return done(true);
  }

  // Level by level. Priorities: 0 the year/month/day folders a run lists (depth first, newest first: one
  // log name is enough), 1 the folders above them (breadth first: they decide whether anything is
  // listable), 2 deeper ones, only to say where log names are instead.
  interface Folder {
    readonly prefix: string;
    readonly kind: 'tree' | 'year' | 'month' | 'day';
    /** tree: folder levels below the source prefix; year/month/day: the level of the year folder. */
    readonly depth: number;
    readonly priority: 0 | 1 | 2;
  }
  const queue: Folder[] = [{ prefix, kind: 'tree', depth: 0, priority: 1 }];
  const listable = layout !== 'simple';
  let complete = true;
  const next = (): Folder | undefined => {
    let best = -1;
    for (let i = 0; i < queue.length; i++) {
      const f = queue[i]!;
      const b = best === -1 ? undefined : queue[best]!;
      // Lower priority first; among date folders the latest queued (depth first), among trees the first.
      if (b === undefined || f.priority < b.priority || (f.priority === b.priority && f.kind !== 'tree')) best = i;
    }
    return best === -1 ? undefined : queue.splice(best, 1)[0];
  };

  for (let folder = next(); folder !== undefined; folder = next()) {
    const decides = folder.priority < 2;
    if (state.requests >= budget) {
      if (decides) complete = false;
      // A suggestion is only a hint: stop once one is known or the budget is spent.
      break;
    }
    if (!decides && (state.suggestions.length > 0 || state.otherLayout)) break;
    const page = await list(folder.prefix, true);
    if (page.truncated && decides) complete = false;
    // S3 has no empty folders: an empty answer for keys known to exist is a store that omits prefixes
    // holding only deeper keys (list.ts skipScan), so nothing below can be ruled out. Locally it is empty.
    if (decides && s3 && page.objects.length === 0 && page.commonPrefixes.length === 0) complete = false;
    for (const o of page.objects) {
      examine(o.key);
      if (state.found) return done(true);
    }
    // Children in key order; date folders are taken from the end of the queue, so push oldest first.
    for (const child of [...page.commonPrefixes].sort()) {
      const name = child.slice(folder.prefix.length, -1);
      if (folder.kind === 'tree') {
        // The level of a year folder here, or of the folders below this child's.
        const depth = YEAR.test(name) ? folder.depth : folder.depth + 1;
        const kind = YEAR.test(name) ? 'year' : 'tree';
        // With --layout simple no folder holds what the run lists: below the prefix is only for hints.
        if (listable && depth <= ABOVE_YEAR) queue.push({ prefix: child, kind, depth, priority: kind === 'year' ? 0 : 1 });
        else if (depth <= ABOVE_YEAR + DEEPER) queue.push({ prefix: child, kind, depth, priority: 2 });
      } else if (folder.kind !== 'day' && TWO_DIGITS.test(name)) {
        queue.push({ prefix: child, kind: folder.kind === 'year' ? 'month' : 'day', depth: folder.depth, priority: folder.priority });
      }
    }
  }
  return done(complete);
}

type Verdict =
  | { kind: 'listed' }
  | { kind: 'other-layout'; layout: 'simple' | 'date-based' }
  /** A log name a run of this prefix does not list; `prefix` is the one it would be listed under. */
  | { kind: 'elsewhere'; prefix: string }
  | { kind: 'other' };

/** Whether a run of some key date lists `key` (listsKey, with the date the key's name carries). */
function classify(key: string, prefix: string, layout: KeyLayout): Verdict {
  const rest = key.slice(prefix.length);
  const name = key.slice(key.lastIndexOf('/') + 1);
  const dates = new Set<string>();
  for (const s of [rest, name]) {
    const m = /^\d{4}-\d{2}-\d{2}/.exec(s);
    if (m) dates.add(m[0]);
  }
  for (const date of dates) if (listsKey(key, prefix, date, layout)) return { kind: 'listed' };
  if (layout !== 'auto') {
    for (const date of dates)
      if (listsKey(key, prefix, date, 'auto')) return { kind: 'other-layout', layout: layout === 'simple' ? 'date-based' : 'simple' };
  }
  const at = logPrefixOf(key);
  return at === undefined || at === prefix ? { kind: 'other' } : { kind: 'elsewhere', prefix: at };
}

/**
 * The prefix a log object key would be listed under: its folder (+ file-name prefix) in the simple
 * layout; three levels above the year folder in the date-based one (`<account>/<region>/<bucket>/`).
 */
function logPrefixOf(key: string): string | undefined {
  const segments = key.split('/');
  const n = segments.length;
  const m = LOG_NAME.exec(segments[n - 1]!);
  if (!m) return undefined;
  const [, before, , y, mo, d] = m;
  const folders = (count: number) =>
    segments
      .slice(0, count)
      .map((s) => s + '/')
      .join('');
  if (before === '' && n >= 4 && segments[n - 4] === y && segments[n - 3] === mo && segments[n - 2] === d) {
    return folders(Math.max(0, n - 4 - ABOVE_YEAR));
  }
  return folders(n - 1) + before;
}

const LOG_NAME_FORM = 'YYYY-MM-DD-hh-mm-ss-ID';

function explain(check: SourceCheck, source: SourceLocation, layout: KeyLayout, flagValue: string): string {
  const show = (target: string) => display(flagValue, source.prefix, target);
  const where = show(source.prefix);
  // A file-name prefix (`logs/emr`) is glued to the names; a folder-like one (`logs/`, '') is not.
  const name = source.prefix.slice(source.prefix.lastIndexOf('/') + 1);
  const scope = `${name ? 'starting' : 'under'} ${where}`;
  const simple = `${name}${LOG_NAME_FORM}`;
  const dateBased = `${name}[account/region/bucket/]YYYY/MM/DD/${LOG_NAME_FORM}`;
  const looked = `looked for ${layout === 'simple' ? simple : layout === 'date-based' ? dateBased : `${simple} or ${dateBased}`}`;
  const s3 = source.storage.uri.startsWith('s3://');
  const head = `--source ${flagValue}`;
  const suggestion = check.suggestions.length
    ? `did you mean ${show(check.suggestions[0]!)}${check.suggestions.length > 1 ? ` (or ${show(check.suggestions[1]!)})` : ''}?`
    : undefined;

  if (check.sourceIsObject && check.objectsSeen === 1) {
    const what = s3 ? 'an object, not a prefix' : 'a file, not a folder';
    if (suggestion) return `${head} is one log object, ${s3 ? 'not a prefix' : 'not a folder'}; ${suggestion}`;
    return `${head} is ${what} of S3 access log objects; pass the ${s3 ? 'prefix' : 'folder'} that holds the raw access logs`;
  }
  if (check.otherLayout) {
    return `${head}: no ${layout} layout log object names ${scope} (${looked}), but ${check.otherLayout} layout ones are there; pass --layout ${check.otherLayout} (or auto)`;
  }
  if (suggestion) return `${head}: no S3 access log object names ${scope} (${looked}); ${suggestion}`;
  if (check.objectsSeen > 0) {
    const examples = check.others.map((k) => oneLine(k === '' ? where : k)).join(', ');
    return `${head}: no S3 access log object names ${scope} (${looked}; found only other objects, such as ${examples}); pass the ${s3 ? 'prefix' : 'folder'} that holds the raw access logs`;
  }
  if (s3) {
    const bucketRoot = source.prefix === '';
    return `${head}: ${name ? `no key starts with ${where}` : `nothing under ${where}`} (${bucketRoot ? 'the bucket is empty' : 'the prefix does not exist or is empty'}; ${looked}); pass the prefix that holds the raw access logs (S3 delivers the first ones within about an hour of enabling logging)`;
  }
  return `${head}: ${source.prefix === '' ? 'the folder holds no files' : `nothing starts with ${where}`} (${looked}); pass the folder that holds the raw access logs`;
}

/**
 * `target` (relative to the store root) as the user would write it, from what they wrote for `prefix`:
 * `./out/raw-logs` + `logs/` → `./out/raw-logs/logs/`; `s3://b/logs/x` for `logs/` → `s3://b/logs/`.
 */
function display(flagValue: string, prefix: string, target: string): string {
  if (target.startsWith(prefix)) {
    const joiner = (prefix === '' || prefix.endsWith('/')) && !/[\\/]$/.test(flagValue) ? '/' : '';
    return flagValue + joiner + target.slice(prefix.length);
  }
  const cut = prefix.slice(target.length);
  if (prefix.startsWith(target) && flagValue.endsWith(cut)) return flagValue.slice(0, flagValue.length - cut.length) || './';
  return target;
}

/** Keys may hold control characters; the message stays one line. */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The destination takes a write and a delete (what every publish needs): a probe object under
 * _s3logs/, removed at once. Failures name --dest and the cause, not the store's temp or lock files.
 */
export async function checkDest(dest: Storage, flagValue: string): Promise<void> {
  const key = lakeKeys.probe(randomBytes(6).toString('hex'));
  try {
    await dest.put(key, Buffer.from('s3logs write check; safe to delete\n'));
    await dest.delete([key]);
  } catch (error) {
    if (!(error instanceof StorageError)) throw error;
    throw new ConfigError(`--dest ${flagValue}: ${destProblem(error)}`, '--dest');
  }
}

function destProblem(error: StorageError): string {
  const errno = (error.cause as NodeJS.ErrnoException | undefined)?.code;
  if (errno === 'ENOTDIR' || errno === 'EEXIST')
    return 'is a file (or lies under one), not a directory; pass a directory for the Parquet output';
  if (errno === 'EROFS') return 'is on a read-only file system; pass a writable location';
  if (errno === 'EACCES' || errno === 'EPERM')
    return 'cannot be written (permission denied); check its permissions or pass another location';
  if (errno === 'ENOSPC') return 'has no space left on its device';
  return `a test write failed: ${oneLine(error.message)}`;
}
