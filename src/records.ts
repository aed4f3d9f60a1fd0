/**
 * Every key s3logs keeps under `<dest>/_s3logs/` and every record it writes there, in one place: the
 * key date manifest (what the lake holds, by raw object), the publish journal, shard manifests, locks,
 * the registered marker and reject lines. Readers of the lake's own state go through here.
 *
 * Layout (D = key date):
 *   _s3logs/keydates/D/manifest.json           the published state of D (the commit point)
 *   _s3logs/keydates/D/publish-<run>.json      a publish in progress (journal; finished by any later run);
 *                                              also a copy of a group publish's journal (compaction) per member
 *   _s3logs/keydates/D/lock.json               the publish lock of D (runs, last shards, `s3logs commit`)
 *   _s3logs/keydates/D/shards/<tag>.json       a shard's staged part, waiting for the others
 *   _s3logs/keydates/D/shards/lock-<tag>.json  one run per shard at a time
 *   _s3logs/keydates/D/registered.json         the catalog took the manifest's partitions
 *   _s3logs/staging/D/<run>/…                  files a run wrote and has not published yet
 *   _s3logs/groups/<run>/staging/…             files a group publish (compaction) wrote, not published yet
 *   _s3logs/groups/<run>/outcome.json          a group publish's commit point: committed or aborted (kept)
 *   _s3logs/rejects/keydate=D/*.jsonl          reject records (published beside the table)
 *   _s3logs/catalog.json                       the local catalog
 *   _s3logs/doctor-probe-<random>              doctor's write check (deleted at once)
 */
import { StorageError } from './errors.js';
import type { Storage } from './storage/Storage.js';
import type { RejectReason } from './stages/parse.js';
import type { RedactMode } from './stages/redact.js';

export const CONTROL_PREFIX = '_s3logs/';

const keyDateDir = (keyDate: string) => `${CONTROL_PREFIX}keydates/${keyDate}/`;

export const lakeKeys = {
  manifest: (keyDate: string) => `${keyDateDir(keyDate)}manifest.json`,
  journalPrefix: (keyDate: string) => `${keyDateDir(keyDate)}publish-`,
  journal: (keyDate: string, runId: string) => `${keyDateDir(keyDate)}publish-${runId}.json`,
  publishLock: (keyDate: string) => `${keyDateDir(keyDate)}lock.json`,
  shardPrefix: (keyDate: string) => `${keyDateDir(keyDate)}shards/`,
  shardManifest: (keyDate: string, tag: string) => `${keyDateDir(keyDate)}shards/${tag}.json`,
  shardLock: (keyDate: string, tag: string) => `${keyDateDir(keyDate)}shards/lock-${tag}.json`,
  registered: (keyDate: string) => `${keyDateDir(keyDate)}registered.json`,
  stagingRoot: (keyDate: string) => `${CONTROL_PREFIX}staging/${keyDate}/`,
  staging: (keyDate: string, runId: string) => `${CONTROL_PREFIX}staging/${keyDate}/${runId}/`,
  rejectFile: (keyDate: string, name: string) => `${CONTROL_PREFIX}rejects/keydate=${keyDate}/${name}`,
  catalog: `${CONTROL_PREFIX}catalog.json`,
  groupStaging: (runId: string) => `${CONTROL_PREFIX}groups/${runId}/staging/`,
  groupOutcome: (runId: string) => `${CONTROL_PREFIX}groups/${runId}/outcome.json`,
  /** doctor's write probe (put, then deleted). */
  probe: (random: string) => `${CONTROL_PREFIX}doctor-probe-${random}`,
} as const;

/**
 * A raw log object the lake holds the rows of. Its identity is its `name`: S3 names every log object
 * `…YYYY-MM-DD-hh-mm-ss-<random>` once, so a copy (another bucket, an archive, a moved folder, an
 * overlapping prefix) is recognised as the same object and its rows are never held twice.
 */
export interface ObjectRecord {
  /** Last segment of the key: the identity. */
  readonly name: string;
  /** Where it was read: `s3://log-bucket/prefix/key` or a local path (the source_key of its rejects). */
  readonly uri: string;
  readonly etag: string;
  readonly size: number;
  readonly lines: number;
  readonly rows: number;
  readonly rejects: number;
  readonly repairedUtf8: number;
}

/**
 * Which raw objects a file's rows came from, in file order: `[object, rows, object, rows, …]`, objects
 * as indices into the manifest's (or staged part's) `objects`. Rows of one object are contiguous
 * because files are written in object order; this is what lets a run keep some objects' rows of a file
 * and drop the others'.
 */
export type Runs = readonly number[];

export interface FileRecord {
  /** `bucket=<b>/dt=<d>/part-….parquet` */
  readonly key: string;
  readonly bucket: string;
  readonly dt: string;
  /** This key date's rows in the file (all of them unless `shared`). */
  readonly rows: number;
  /** The whole file's size. */
  readonly bytes: number;
  /** This key date's rows by object; with `shared`, from row `shared.offset` on. */
  readonly runs: Runs;
  /**
   * A compacted file holding rows of several key dates: each member's rows are one contiguous segment
   * [offset, offset + rows) of the file's `fileRows`, and every member's manifest lists the file. Only
   * a group publish (src/stages/group.ts) changes or deletes such a file.
   */
  readonly shared?: SharedFile;
}

export interface SharedFile {
  readonly offset: number;
  readonly fileRows: number;
  /** Every key date with a segment in the file, sorted. */
  readonly members: readonly string[];
}

export interface RejectFileRecord {
  readonly key: string;
  readonly rejects: number;
  readonly runs: Runs;
}

export interface KeyDateCounts {
  objects: number;
  bytesIn: number;
  lines: number;
  rows: number;
  rejects: number;
  repairedUtf8: number;
}

export interface KeyDateManifest {
  readonly kind: 's3logs/keydate-manifest';
  readonly manifestVersion: 2;
  readonly keyDate: string;
  /** The publish that wrote this state. */
  readonly runId: string;
  readonly publishedBy: 'convert' | 'commit' | 'compact';
  readonly tool: { name: string; version: string };
  readonly schemaVersion: number;
  readonly createdAt: string;
  /** Every source location that contributed rows (`s3://bucket/prefix` or a local path). */
  readonly sources: readonly string[];
  /** Sorted by name. */
  readonly objects: readonly ObjectRecord[];
  readonly files: readonly FileRecord[];
  readonly rejectFiles: readonly RejectFileRecord[];
  /**
   * --redact applied to EVERY row and reject of this key date, sorted (`[]`: none). Absent in manifests
   * written before s3logs redacted: none. A publish never mixes settings within a key date (commit.ts).
   */
  readonly redact?: readonly RedactMode[];
}

/** What a run listed: a key date's objects under a source location, in a key layout. */
export interface ListingScope {
  /** Root of the source store (`s3://bucket/` or a directory path ending in the separator). */
  readonly storageUri: string;
  /** Key prefix inside it, possibly ending mid-name (`logs/emr`). */
  readonly prefix: string;
  readonly layout: 'auto' | 'simple' | 'date-based';
}

export interface ShardSpec {
  /** 0-based. */
  readonly index: number;
  readonly count: number;
}

export interface StagedFileRecord extends FileRecord {
  readonly stagingKey: string;
}

export interface StagedRejectFileRecord extends RejectFileRecord {
  readonly stagingKey: string;
}

/** One run's output before it is published: the whole key date, or one shard's objects. */
export interface StagedPart {
  readonly keyDate: string;
  readonly runId: string;
  readonly shard?: ShardSpec;
  readonly scope: ListingScope;
  /** Objects of the scope that are gone from the source lose their rows in the lake. */
  readonly deleteVanished: boolean;
  /** The objects this run read, in the order it read them (runs index into this). */
  readonly objects: readonly ObjectRecord[];
  readonly files: readonly StagedFileRecord[];
  readonly rejectFiles: readonly StagedRejectFileRecord[];
  /** --redact the run applied (absent: none). */
  readonly redact?: readonly RedactMode[];
}

export interface ShardManifest extends StagedPart {
  readonly kind: 's3logs/shard-manifest';
  readonly shard: ShardSpec;
  readonly stagedAt: string;
}

/**
 * Written before a publish changes anything readers see; the next run of any kind on the key date
 * finishes it (or rolls it back when another publish got there first).
 */
export interface PublishJournal {
  readonly kind: 's3logs/publish-journal';
  readonly keyDate: string;
  readonly runId: string;
  readonly createdAt: string;
  /** Version of the manifest this publish replaces; null when there was none. */
  readonly baseVersion: string | null;
  readonly manifest: KeyDateManifest;
  /** Staged key → final key. */
  readonly moves: ReadonlyArray<readonly [string, string]>;
  /** Files of the state before that the state after no longer has. */
  readonly deletes: readonly string[];
  /** Shard manifests this publish consumes or supersedes. */
  readonly shardManifests: readonly string[];
  /** Staging directories to clear at the end. */
  readonly staging: readonly string[];
}

/**
 * A publish that changes the manifests of several key dates at once (compaction, or splitting a
 * compacted file before a key date replaces some of its rows). Written as a copy into every member's
 * directory (`publish-<run>.json`) before anything readers see changes; `outcome.json` decides it.
 */
export interface GroupJournal {
  readonly kind: 's3logs/group-journal';
  readonly runId: string;
  readonly purpose: 'compact' | 'split';
  readonly createdAt: string;
  /** Sorted by key date. */
  readonly members: ReadonlyArray<{ readonly keyDate: string; readonly baseVersion: string; readonly manifest: KeyDateManifest }>;
  /** Staged key → final key (new keys only). */
  readonly moves: ReadonlyArray<readonly [string, string]>;
  /** Files the members' manifests no longer list afterwards. */
  readonly deletes: readonly string[];
  readonly staging: string;
}

export interface GroupOutcome {
  readonly outcome: 'committed' | 'aborted';
  readonly runId: string;
  /** Who decided: the group's own run, or a run of a member that found the group abandoned. */
  readonly by: string;
  readonly at: string;
}

export interface LockRecord {
  readonly kind: 's3logs/lock';
  /** Random per acquisition: how a holder recognises its own lock (also after a lost answer). */
  readonly token: string;
  readonly runId: string;
  /** What the holder does: `convert`, `shard 2/4`, `commit`. */
  readonly purpose: string;
  readonly host: string;
  readonly pid: number;
  readonly acquiredAt: string;
  readonly renewedAt: string;
  /** The holder renews the lease while it works; after this any run may take the lock over. */
  readonly expiresAt: string;
}

export interface RegisteredMarker {
  readonly runId: string;
  readonly catalog: string;
  readonly registeredAt: string;
}

/** One reject record as a JSON line (the raw bytes kept as base64 when the text had to replace them). */
export function rejectLine(
  keyDate: string,
  sourceKey: string,
  line: number,
  reason: RejectReason,
  detail: string,
  raw: Uint8Array,
): string {
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
  const record: Record<string, unknown> = { key_date: keyDate, source_key: sourceKey, line, reason, detail, raw: text };
  if (Buffer.byteLength(text) !== raw.byteLength || text.includes('\uFFFD')) record.raw_base64 = Buffer.from(raw).toString('base64');
  return JSON.stringify(record) + '\n';
}

/** Sum of a record list's counts. */
export function countsOf(objects: readonly ObjectRecord[]): KeyDateCounts {
  const counts: KeyDateCounts = { objects: objects.length, bytesIn: 0, lines: 0, rows: 0, rejects: 0, repairedUtf8: 0 };
  for (const o of objects) {
    counts.bytesIn += o.size;
    counts.lines += o.lines;
    counts.rows += o.rows;
    counts.rejects += o.rejects;
    counts.repairedUtf8 += o.repairedUtf8;
  }
  return counts;
}

/** The identity of a raw log object: the last segment of its key. */
export function objectName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

export { compareKeys } from './compare.js';

/** A body that is not JSON: the caller's error, or by default a StorageError that says what to do. */
type InvalidJson = (error: unknown) => Error;

function parse<T>(storage: Storage, key: string, body: Uint8Array, invalid?: InvalidJson): T {
  try {
    return JSON.parse(Buffer.from(body).toString('utf8')) as T;
  } catch (error) {
    throw (
      invalid?.(error) ??
      new StorageError(
        `${storage.uri}${key} is not valid JSON; it was not written by s3logs or was damaged. Move it aside and re-run this key date`,
        'io',
        key,
      )
    );
  }
}

/** A JSON record, or undefined when the key does not exist. */
export async function readRecord<T>(storage: Storage, key: string): Promise<T | undefined> {
  const found = await readVersionedRecord<T>(storage, key);
  return found?.record;
}

/** The one reader of JSON documents in a store: the record and the version to write it back against. */
export async function readVersionedRecord<T>(
  storage: Storage,
  key: string,
  invalid?: InvalidJson,
): Promise<{ record: T; version: string } | undefined> {
  const found = await storage.getVersioned(key);
  return found ? { record: parse<T>(storage, key, found.body, invalid), version: found.version } : undefined;
}

export function recordBody(record: unknown): Buffer {
  return Buffer.from(JSON.stringify(record));
}

export async function writeRecord(storage: Storage, key: string, record: unknown): Promise<void> {
  await storage.put(key, recordBody(record), { contentType: 'application/json' });
}

export async function readManifest(storage: Storage, keyDate: string): Promise<{ manifest: KeyDateManifest; version: string } | undefined> {
  const found = await readVersionedRecord<KeyDateManifest | LegacyManifest>(storage, lakeKeys.manifest(keyDate));
  if (!found) return undefined;
  return { manifest: upgradeManifest(found.record), version: found.version };
}

/** Manifests of s3logs 0.1 recorded files without the objects their rows came from. */
interface LegacyManifest {
  readonly manifestVersion: 1;
  readonly keyDate: string;
  readonly runId: string;
}

function upgradeManifest(record: KeyDateManifest | LegacyManifest): KeyDateManifest {
  if (record.manifestVersion === 2) return record;
  throw new StorageError(
    `the manifest of key date ${record.keyDate} was written by s3logs 0.1, which did not record which raw object each file's rows came from; ` +
      `convert this lake again into a new --dest (or remove its _s3logs/keydates/ and Parquet files first)`,
    'io',
    lakeKeys.manifest(record.keyDate),
  );
}
