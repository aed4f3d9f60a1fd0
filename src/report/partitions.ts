/**
 * Partition pruning for the report: lists only the `bucket=<b>/dt=<d>/` directories of the range and
 * their Parquet files through the project's Storage, and makes them readable by DuckDB as local files
 * (a local store is read in place; an S3 store is downloaded to a temp dir, so DuckDB never needs its
 * httpfs extension or network access).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pLimit from 'p-limit';
import { compareKeys } from '../compare.js';
import { LocalStorage } from '../storage/local.js';
import type { Storage } from '../storage/Storage.js';

export interface Partition {
  readonly bucket: string;
  readonly dt: string;
  /** Store keys of the partition's Parquet files. */
  readonly keys: string[];
  readonly bytes: number;
}

export interface LocalFiles {
  readonly paths: string[];
  /** Bytes fetched from a remote store (0 when read in place). */
  readonly downloadedBytes: number;
  cleanup(): Promise<void>;
}

/**
 * Buckets under the destination root (or just the one asked for), sorted. A skip scan: one single-key
 * LIST per bucket, each starting after the previous bucket's keys (`bucket=<b>0` follows every
 * `bucket=<b>/…` key), so neither the whole table nor a delimiter listing of the root is needed.
 */
async function listBuckets(storage: Storage, only: string | undefined): Promise<string[]> {
  if (only !== undefined) return [only];
  const buckets: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await storage.list('bucket=', { maxKeys: 1, ...(after !== undefined ? { startAfter: after } : {}) });
    const key = page.objects[0]?.key;
    const bucket = key === undefined ? undefined : /^bucket=([^/]+)\//.exec(key)?.[1];
    if (bucket === undefined) return buckets.sort();
    buckets.push(bucket);
    after = `bucket=${bucket}0`;
  }
}

/**
 * The partitions of `days` (YYYY-MM-DD; undefined: every dt) that exist, with their `.parquet` files;
 * staged and other files are skipped.
 */
export async function listPartitions(
  storage: Storage,
  days: readonly string[] | undefined,
  bucket?: string,
  concurrency = 16,
): Promise<Partition[]> {
  const wanted = days === undefined ? undefined : new Set(days);
  const limit = pLimit(concurrency);
  const buckets = await listBuckets(storage, bucket);
  const dirs = await Promise.all(
    buckets.map((b) =>
      limit(async () => {
        const page = await storage.list(`bucket=${b}/`, { delimiter: '/' });
        return page.commonPrefixes.flatMap((p) => {
          const dt = /^bucket=[^/]+\/dt=(\d{4}-\d{2}-\d{2})\/$/.exec(p)?.[1];
          return dt !== undefined && (wanted === undefined || wanted.has(dt)) ? [{ bucket: b, dt, prefix: p }] : [];
        });
      }),
    ),
  );
  const partitions = await Promise.all(
    dirs.flat().map((d) =>
      limit(async () => {
        const page = await storage.list(d.prefix);
        const files = page.objects.filter((o) => o.key.endsWith('.parquet') && !o.key.slice(d.prefix.length).includes('/'));
        return { bucket: d.bucket, dt: d.dt, keys: files.map((f) => f.key).sort(), bytes: files.reduce((n, f) => n + f.size, 0) };
      }),
    ),
  );
  return partitions.filter((p) => p.keys.length > 0).sort((a, b) => compareKeys(a.bucket, b.bucket) || compareKeys(a.dt, b.dt));
}

/** Local paths DuckDB can read for the given keys, keeping `bucket=…/dt=…/` in the path for hive partitioning. */
export async function localFiles(storage: Storage, keys: readonly string[], concurrency = 16): Promise<LocalFiles> {
  if (storage instanceof LocalStorage) {
    return { paths: keys.map((k) => join(storage.root, ...k.split('/'))), downloadedBytes: 0, cleanup: async () => {} };
  }
  const dir = await mkdtemp(join(tmpdir(), 's3logs-report-'));
  const limit = pLimit(concurrency);
  let downloadedBytes = 0;
  try {
    const paths = await Promise.all(
      keys.map((key) =>
        limit(async () => {
          const path = join(dir, ...key.split('/'));
          const body = await storage.get(key);
          await mkdir(dirname(path), { recursive: true });
          await writeFile(path, body);
          downloadedBytes += body.length;
          return path;
        }),
      ),
    );
    return { paths, downloadedBytes, cleanup: () => rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
