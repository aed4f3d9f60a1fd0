/**
 * The storage seam: the pipeline reads raw logs from and writes Parquet to a Storage, never to a
 * filesystem or S3 directly. Keys are relative to the store's root (the URI the user gave) and use `/`.
 */

export interface ObjectInfo {
  /** Key relative to the store root. */
  readonly key: string;
  readonly size: number;
  /** Opaque content version: S3 ETag, or size+mtime for local files. Used to detect changed inputs. */
  readonly etag: string;
  readonly lastModified?: Date | undefined;
}

export interface VersionedObject {
  readonly body: Uint8Array;
  readonly version: string;
}

export interface ListPage {
  readonly objects: ObjectInfo[];
  /** With a delimiter: the "directories" one level down, each ending with the delimiter. */
  readonly commonPrefixes: string[];
  /** True when maxKeys stopped the listing before its end. */
  readonly truncated?: boolean;
}

export interface ListOptions {
  readonly delimiter?: string;
  /** List only keys after this one (exclusive). */
  readonly startAfter?: string;
  /** List only keys up to this one (inclusive); paging stops there. With startAfter it makes a key range. */
  readonly endAt?: string;
  /** Stop after about this many objects (one S3 page); the page says whether more remain. */
  readonly maxKeys?: number;
}

export interface PutOptions {
  readonly contentType?: string;
}

export interface Storage {
  /** Human-readable root, e.g. `s3://bucket/prefix/` or `/data/out/`; never contains credentials. */
  readonly uri: string;
  /**
   * Lists every object under `prefix` (all pages). With `delimiter: '/'`, only the level below
   * `prefix` is listed and deeper keys are folded into commonPrefixes.
   */
  list(prefix: string, options?: ListOptions): Promise<ListPage>;
  /** Whole object body. Throws StorageError code `not_found` when the key does not exist. */
  get(key: string): Promise<Uint8Array>;
  /** Object metadata, or undefined when it does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Writes the whole object atomically: readers see the old object or the new one, never a part. */
  put(key: string, body: Uint8Array, options?: PutOptions): Promise<void>;
  /**
   * Creates the object only if no object has that key (a conditional write); false when one exists.
   * Used for locks. S3 honours If-None-Match: * (since 2024); some S3-compatible servers ignore it,
   * so callers also read the object back. A retry after a lost answer can find its own write and
   * answer false: callers compare what they read back with what they wrote.
   */
  putIfAbsent(key: string, body: Uint8Array): Promise<boolean>;
  /**
   * Body and version of an object as one consistent pair (the version is what putIfMatch compares:
   * S3's ETag, a content hash locally), or undefined when the key does not exist.
   */
  getVersioned(key: string): Promise<VersionedObject | undefined>;
  /**
   * Replaces the object only if its version is still `version` (S3 If-Match); false when it changed or
   * is gone. Used for lock leases and the key date manifest, the publish's commit point. Same caveats
   * as putIfAbsent: servers that ignore the condition, and lost answers, are caught by reading back.
   */
  putIfMatch(key: string, body: Uint8Array, version: string): Promise<boolean>;
  /**
   * Puts a staged object at its final key atomically (readers see all of it or nothing). The staged key
   * may stay: a local rename removes it, S3 copies server-side and leaves it to the batched delete of the
   * staging prefix that ends every publish (one request per 1000 files instead of one per file).
   */
  place?(fromKey: string, toKey: string): Promise<void>;
  /**
   * Deletes everything under a `/`-terminated prefix, including what list() does not show (a local
   * store's temp files from a crashed write). Optional: stores without it are cleared by list + delete.
   */
  deletePrefix?(prefix: string): Promise<void>;
  /** Deletes keys (missing keys are not an error). */
  delete(keys: readonly string[]): Promise<void>;
  /** Counters for the run summary (retries and the like); optional. */
  stats?(): StorageStats;
  /** Release sockets, file handles. */
  close?(): Promise<void>;
}

export interface StorageStats {
  readonly requests: number;
  readonly retries: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
}
