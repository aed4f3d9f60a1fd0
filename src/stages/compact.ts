/**
 * compact: rewrite the small files of a `bucket=/dt=` partition into as few files as a target size
 * allows, without changing the set of rows — and split such a file again when one of its key dates
 * replaces rows (convert after compact).
 *
 * Every key date D owns its rows by raw object (records.ts). Late delivery puts rows of several key dates
 * into one partition, so a compacted file usually holds rows of several key dates: each member's rows
 * are one contiguous segment, listed in the member's manifest as a `shared` file, and the change is one
 * group publish over all members (group.ts).
 *
 * Layout of a compacted file: member key dates in order; inside a member, raw objects ordered by their
 * first requestdatetime, each object's rows contiguous (so runs stay one per object) and sorted by
 * requestdatetime. Row groups then cover narrow time ranges (a full time sort would interleave objects
 * and make runs as long as the rows). The footer leaves out the encoding_stats of the columns no query
 * filters on and the size_statistics of all: every query opens every file of its range, and DuckDB
 * parses them in each footer it reads (footer.ts, docs/benchmark.md#query).
 *
 * Memory: input files are read one at a time (their bytes kept in a small cache, their row groups
 * decoded one or two at a time, in record batches of 16,384 rows); rows go to the writer in chunks of
 * up to CHUNK_ROWS rows copied from at most CHUNK_BATCHES such batches (one copy and one hand-off for
 * many objects: per object, as before, cost a third more CPU on 40 MiB key dates);
 * output goes through parquet-wasm's streaming writer, which holds one
 * row group, and the output file's bytes (about --target-file-mb) are held until the file is staged.
 * The streaming writer drops write errors silently (LIBRARIES.md): every batch is built under
 * ARROW_SCHEMA here, and each written file's footer row count is checked before it is staged.
 */
import { createHash } from 'node:crypto';
import { type RecordBatch, Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import type { WriterProperties } from 'parquet-wasm';
import { ACCESS_LOG_COLUMNS, SCHEMA_VERSION } from '../../schemas/accessLog.js';
import { StorageError } from '../errors.js';
import { failpoint } from '../failpoints.js';
import type { LeaseLock } from '../lock.js';
import {
  compareKeys,
  lakeKeys,
  readRecord,
  readVersionedRecord,
  writeRecord,
  type FileRecord,
  type GroupJournal,
  type KeyDateManifest,
  type RegisteredMarker,
} from '../records.js';
import { ARROW_SCHEMA } from '../schema/arrow.js';
import type { Storage } from '../storage/Storage.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { checkManifest, recoverPublishes } from './commit.js';
import { footerRowCount, slimFooter } from './footer.js';
import { clearDeadPublishLocks, MemberLocks, publishGroup, sweepDeadGroupStaging } from './group.js';
import { footerFacts, keptRows, readRowGroup, RewriteError } from './rewrite.js';
import { loadParquetWasm, type ParquetWasm } from './parquetWasm.js';
import type { WriteOptions } from './writeOptions.js';
import { useWasmTier, wasmTierFor, type WasmTier } from './wasmTier.js';
import { newRunId } from '../runId.js';

export { DEFAULT_TARGET_FILE_MB } from './writeOptions.js';

/** Input file bytes kept between the first pass (times) and the second (rows). */
const BYTES_CACHE = 64 * 1024 * 1024;
/** Rows handed to the writer at a time when a range is copied as it is (splits). */
const COPY_BATCH_ROWS = 65_536;
/** Files up to this size with one row group are decoded once for their times and their rows. */
const DECODE_WHOLE_BYTES = 8 * 1024 * 1024;
/** Rows gathered into one batch for the writer, and the decoded batches one such chunk may refer to. */
const CHUNK_ROWS = 16_384;
const CHUNK_BATCHES = 8;
/**
 * Every write to the streaming writer but a file's last ends a multiple of this many rows into a row
 * group. The writer ends data pages at places that depend on where writes end: with writes cut between
 * objects, most columns' pages held odd row counts (34,500, 20,599 …); with aligned writes most hold
 * multiples of 2,048, the rows DuckDB reads at a time. Measured on the query bench's 40 MiB key dates
 * (the same lake compacted both ways; DuckDB, two interleaved sets of 11 runs of the 25 report queries):
 * 1.7% and 2.6% less time in all, for about the same compaction CPU (48.8 against 47.8 s, one run each).
 */
const PAGE_ALIGN_ROWS = 2048;

/**
 * Columns whose chunks keep their encoding_stats in a compacted file: those queries filter on (schemas/
 * `filtered`), where an engine may use them to filter by dictionary. The others' are dropped, and every
 * chunk's size_statistics: DuckDB parses them for every file a query opens (footer.ts slimFooter).
 */
const KEEP_ENCODING_STATS: ReadonlySet<string> = new Set(
  ACCESS_LOG_COLUMNS.filter((c) => 'filtered' in c && c.filtered).map((c) => c.name),
);

export interface CompactOptions {
  readonly targetBytes: number;
  readonly writeOptions: WriteOptions;
  readonly concurrency: number;
  /** Wait for member key dates' locks (a run of one of them may be publishing). */
  readonly lockWaitMs: number;
  readonly signal?: AbortSignal;
  readonly onPartition?: (result: PartitionResult) => void;
}

export interface PartitionResult {
  bucket: string;
  readonly dt: string;
  status: 'compacted' | 'skipped' | 'failed';
  /** Why a partition was skipped or failed. */
  reason?: string;
  errorCode?: 'locked' | 'conflict' | 'storage' | 'internal';
  filesBefore: number;
  filesAfter: number;
  /** Rows of the compacted partition before (manifests) and after (written footers). */
  rowsBefore: number;
  rowsAfter: number;
  bytesBefore: number;
  bytesAfter: number;
  members: string[];
  /** Seconds readers could see old and new files of the partition at once. */
  windowSeconds: number;
}

export interface CompactSummary {
  ok: boolean;
  partitions: { lookedAt: number; compacted: number; skipped: number; failed: number };
  filesBefore: number;
  filesAfter: number;
  rowsBefore: number;
  rowsAfter: number;
  bytesBefore: number;
  bytesAfter: number;
  /** The longest time readers could see both copies of a partition's rows. */
  windowSeconds: number;
  seconds: number;
  /** The V8 compiler tier parquet-wasm ran on (src/stages/wasmTier.ts). */
  wasmTier: WasmTier;
  results: PartitionResult[];
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** `part-2024-01-29-…` → `2024-01-29`: every file s3logs writes names one key date that lists it. */
function keyDateOfName(key: string): string | undefined {
  return /\/part-(\d{4}-\d{2}-\d{2})-[^/]*\.parquet$/.exec(key)?.[1];
}

/** Already compact: at most one file per target size (as the compacted output of this module is). */
export function isCompact(files: ReadonlyArray<{ size: number }>, targetBytes: number): boolean {
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  return files.length <= Math.max(1, Math.ceil(bytes / targetBytes));
}

/**
 * The `bucket=…/dt=…/` partitions of the dest whose dt is in [from, to] (the report's skip-scan
 * listing: no listing of the whole table, and no delimiter listing of the root).
 */
async function partitionsOf(dest: Storage, from: string, to: string): Promise<Array<{ prefix: string; dt: string; bytes: number }>> {
  const { listPartitions } = await import('../report/partitions.js');
  const { dateRange } = await import('../config.js');
  const found = await listPartitions(dest, dateRange(from, to, '--from', '--to'));
  return found.map((p) => ({ prefix: `bucket=${p.bucket}/dt=${p.dt}/`, dt: p.dt, bytes: p.bytes }));
}

/** Compacts every partition with dt in [from, to]; a failing partition is reported and the others go on. */
export async function compactRange(dest: Storage, from: string, to: string, options: CompactOptions): Promise<CompactSummary> {
  const started = performance.now();
  const results: PartitionResult[] = [];
  // Best effort: a dead run's staging is only space; the next compaction tries again.
  await sweepDeadGroupStaging(dest).catch(() => 0);
  await clearDeadPublishLocks(dest).catch(() => 0);
  const partitions = await partitionsOf(dest, from, to);
  // At most this much Parquet is decoded and written again: a small range keeps baseline wasm code.
  const wasmTier = useWasmTier(wasmTierFor(partitions.reduce((n, p) => n + p.bytes, 0)));
  for (const partition of partitions) {
    // SIGINT/SIGTERM: the partition in flight publishes nothing; the rest wait for the next run.
    if (options.signal?.aborted) break;
    const result = await compactPartition(dest, partition.prefix, partition.dt, options);
    results.push(result);
    options.onPartition?.(result);
  }
  if (!options.signal?.aborted) await catchUpBehind(dest, new Set(results.flatMap((r) => r.members)));
  const sum = (f: (r: PartitionResult) => number) => results.reduce((n, r) => n + f(r), 0);
  return {
    ok: results.every((r) => r.status !== 'failed'),
    partitions: {
      lookedAt: results.length,
      compacted: results.filter((r) => r.status === 'compacted').length,
      skipped: results.filter((r) => r.status === 'skipped').length,
      failed: results.filter((r) => r.status === 'failed').length,
    },
    filesBefore: sum((r) => r.filesBefore),
    filesAfter: sum((r) => r.filesAfter),
    rowsBefore: sum((r) => r.rowsBefore),
    rowsAfter: sum((r) => r.rowsAfter),
    bytesBefore: sum((r) => r.bytesBefore),
    bytesAfter: sum((r) => r.bytesAfter),
    windowSeconds: Math.max(0, ...results.map((r) => r.windowSeconds)),
    seconds: (performance.now() - started) / 1000,
    wasmTier,
    results,
  };
}

interface Member {
  readonly keyDate: string;
  readonly manifest: KeyDateManifest;
  readonly version: string;
  /** This member's files in the partition. */
  readonly records: FileRecord[];
}

/** One partition, under the locks of every key date with rows in it. */
export async function compactPartition(dest: Storage, prefix: string, dt: string, options: CompactOptions): Promise<PartitionResult> {
  const listed = await listParquet(dest, prefix);
  const bytesBefore = listed.reduce((n, o) => n + o.size, 0);
  const result: PartitionResult = {
    bucket: '',
    dt,
    status: 'skipped',
    filesBefore: listed.length,
    filesAfter: listed.length,
    rowsBefore: 0,
    rowsAfter: 0,
    bytesBefore,
    bytesAfter: bytesBefore,
    members: [],
    windowSeconds: 0,
  };
  result.bucket = prefix.slice('bucket='.length, prefix.indexOf('/'));
  if (isCompact(listed, options.targetBytes)) {
    result.reason = 'already compact';
    result.members = [...new Set(listed.map((o) => keyDateOfName(o.key)).filter((k): k is string => k !== undefined))].sort();
    return result;
  }
  const runId = newRunId();
  try {
    // Key dates with rows here: named by the files, plus the members the compacted files list.
    let keyDates = new Set<string>();
    for (const o of listed) {
      const keyDate = keyDateOfName(o.key);
      if (!keyDate) {
        result.reason = `${o.key} was not written by s3logs; partition left as it is`;
        return result;
      }
      keyDates.add(keyDate);
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      for (const keyDate of [...keyDates]) {
        const found = await readVersionedRecord<KeyDateManifest>(dest, lakeKeys.manifest(keyDate));
        for (const f of found?.record.files ?? []) if (f.key.startsWith(prefix)) for (const m of f.shared?.members ?? []) keyDates.add(m);
      }
      const locks = await MemberLocks.acquire(
        dest,
        [...keyDates],
        { runId, purpose: 'compact' },
        { waitMs: options.lockWaitMs, ...(options.signal ? { signal: options.signal } : {}) },
      );
      try {
        const outcome = await underLocks(dest, prefix, dt, [...keyDates].sort(), locks, runId, options, result);
        if (outcome === 'done') return result;
        keyDates = outcome;
      } finally {
        await locks.release();
      }
    }
    throw new StorageError(`the key dates with rows in ${prefix} kept changing; re-run`, 'io', prefix);
  } catch (error) {
    result.status = 'failed';
    result.reason = error instanceof Error ? error.message : String(error);
    result.errorCode =
      error instanceof Error && error.name === 'LockedError'
        ? 'locked'
        : error instanceof Error && error.name === 'GroupAbortedError'
          ? 'conflict'
          : error instanceof StorageError
            ? 'storage'
            : 'internal';
    return result;
  }
}

async function listParquet(dest: Storage, prefix: string) {
  return (await dest.list(prefix)).objects.filter((o) => o.key.endsWith('.parquet') && !o.key.slice(prefix.length).includes('/'));
}

/** 'done', or a larger set of key dates whose locks are needed. */
async function underLocks(
  dest: Storage,
  prefix: string,
  dt: string,
  keyDates: string[],
  locks: MemberLocks,
  runId: string,
  options: CompactOptions,
  result: PartitionResult,
): Promise<'done' | Set<string>> {
  // Publishes of members a crash interrupted are finished first (they may change this partition).
  for (const keyDate of keyDates) await recoverPublishes(dest, keyDate, locks.get(keyDate), options.concurrency);
  const listed = await listParquet(dest, prefix);
  const members: Member[] = [];
  const owners = new Map<string, string[]>();
  const needed = new Set(keyDates);
  for (const keyDate of keyDates) {
    const found = await readVersionedRecord<KeyDateManifest>(dest, lakeKeys.manifest(keyDate));
    if (!found) continue;
    const records = found.record.files.filter((f) => f.key.startsWith(prefix) && !f.key.slice(prefix.length).includes('/'));
    if (records.length === 0) continue;
    if (found.record.schemaVersion !== SCHEMA_VERSION) {
      result.reason = `key date ${keyDate} was written with schema version ${found.record.schemaVersion}; convert it again first`;
      return 'done';
    }
    for (const f of records) {
      owners.set(f.key, [...(owners.get(f.key) ?? []), keyDate]);
      for (const m of f.shared?.members ?? []) needed.add(m);
    }
    members.push({ keyDate, manifest: found.record, version: found.version, records });
  }
  for (const o of listed) {
    const keyDate = keyDateOfName(o.key);
    if (keyDate) needed.add(keyDate);
  }
  if (needed.size > keyDates.length) return needed;
  const unowned = listed.filter((o) => !owners.has(o.key));
  if (unowned.length > 0) {
    result.reason = `${unowned.length} file(s) no manifest lists (e.g. ${unowned[0]!.key}); partition left as it is`;
    return 'done';
  }
  const onDisk = new Set(listed.map((o) => o.key));
  const missing = [...owners.keys()].filter((k) => !onDisk.has(k));
  if (missing.length > 0) throw new StorageError(`${dest.uri}${missing[0]} is listed in a manifest but missing`, 'not_found', missing[0]);
  result.filesBefore = listed.length;
  result.bytesBefore = listed.reduce((n, o) => n + o.size, 0);
  result.filesAfter = listed.length;
  result.bytesAfter = result.bytesBefore;
  result.members = members.map((m) => m.keyDate);
  if (isCompact(listed, options.targetBytes)) {
    result.reason = 'already compact';
    return 'done';
  }
  const bucket = members[0]!.records[0]!.bucket;
  result.bucket = bucket;
  result.rowsBefore = members.reduce((n, m) => n + m.records.reduce((k, f) => k + f.rows, 0), 0);

  const pw = loadParquetWasm();
  const source = new RowSource(dest, pw);
  const staging = lakeKeys.groupStaging(runId);
  const tag = shortHash(runId + '\n' + prefix);
  const out = new OutputFiles(dest, pw, options.writeOptions, staging, (index, fileMembers) =>
    fileMembers.length === 1
      ? `${prefix}part-${fileMembers[0]}-k${tag}-${String(index).padStart(5, '0')}.parquet`
      : `${prefix}part-${fileMembers[0]}-g${tag}-${String(index).padStart(5, '0')}.parquet`,
  );
  try {
    for (const member of members) {
      for (const object of await objectOrder(source, member)) {
        // Cut only between objects: a file ends once its written row groups reach the target.
        if ((await out.currentBytes()) >= options.targetBytes) await out.finish();
        options.signal?.throwIfAborted();
        await out.write(member.keyDate, object.index, byTime(await source.slices(object.pieces)));
      }
    }
    await out.finish();
  } catch (error) {
    await out.abort();
    throw error;
  }
  failpoint('group-staged');
  const written = out.files;
  result.rowsAfter = written.reduce((n, f) => n + f.rows, 0);
  if (result.rowsAfter !== result.rowsBefore) {
    await out.abort();
    throw new StorageError(
      `compacting ${prefix} wrote ${result.rowsAfter} rows of ${result.rowsBefore}; nothing was published`,
      'io',
      prefix,
    );
  }
  let journal: GroupJournal;
  try {
    journal = compactJournal(
      runId,
      members,
      written,
      listed.map((o) => o.key),
      staging,
      bucket,
      dt,
    );
  } catch (error) {
    await out.abort();
    throw error;
  }
  result.windowSeconds = await publishGroup(dest, journal, locks, options.concurrency);
  failpoint('group-published');
  result.status = 'compacted';
  result.filesAfter = written.length;
  result.bytesAfter = written.reduce((n, f) => n + f.bytes, 0);
  await catchUpCatalog(dest, journal, members);
  return 'done';
}

/** The group journal of a compaction: every member's manifest with the partition's files replaced by its segments of the new ones. */
function compactJournal(
  runId: string,
  members: readonly Member[],
  written: readonly WrittenFile[],
  deletes: string[],
  staging: string,
  bucket: string,
  dt: string,
): GroupJournal {
  const now = new Date().toISOString();
  return {
    kind: 's3logs/group-journal',
    runId,
    purpose: 'compact',
    createdAt: now,
    members: members.map((m) => {
      const own: FileRecord[] = [];
      for (const f of written) {
        const segment = f.segments.find((s) => s.keyDate === m.keyDate);
        if (!segment) continue;
        const fileMembers = f.segments.map((s) => s.keyDate);
        own.push({
          key: f.key,
          bucket,
          dt,
          rows: segment.rows,
          bytes: f.bytes,
          runs: segment.runs,
          ...(fileMembers.length > 1 ? { shared: { offset: segment.offset, fileRows: f.rows, members: fileMembers } } : {}),
        });
      }
      const moved = new Set(m.records.map((r) => r.key));
      const manifest: KeyDateManifest = {
        ...m.manifest,
        runId,
        publishedBy: 'compact',
        tool: { name: TOOL_NAME, version: TOOL_VERSION },
        createdAt: now,
        files: [...m.manifest.files.filter((f) => !moved.has(f.key)), ...own].sort((a, b) => compareKeys(a.key, b.key)),
      };
      checkManifest(manifest);
      return { keyDate: m.keyDate, baseVersion: m.version, manifest };
    }),
    moves: written.map((f) => [f.stagingKey, f.key] as const),
    deletes,
    staging,
  };
}

/**
 * The local catalog lists each key date's files per partition: members that were registered are
 * registered again with their new files (same partitions). Glue and projection know partitions only,
 * which did not change: their markers move on. A member whose catalog was behind stays behind (its
 * next run registers it).
 */
async function catchUpCatalog(
  dest: Storage,
  journal: GroupJournal,
  members: ReadonlyArray<{ readonly keyDate: string; readonly manifest: KeyDateManifest }>,
): Promise<void> {
  const current: Array<{
    keyDate: string;
    catalog: RegisteredMarker['catalog'];
    files: readonly FileRecord[];
    previousFiles: readonly FileRecord[];
  }> = [];
  for (const member of members) {
    const marker = await readRecord<RegisteredMarker>(dest, lakeKeys.registered(member.keyDate)).catch(() => undefined);
    if (!marker || marker.runId !== member.manifest.runId) continue;
    const manifest = journal.members.find((m) => m.keyDate === member.keyDate)!.manifest;
    current.push({ keyDate: member.keyDate, catalog: marker.catalog, files: manifest.files, previousFiles: member.manifest.files });
  }
  try {
    // One write of the local catalog's document for all members (it is rewritten whole each time).
    const local = current.filter((m) => m.catalog === 'local');
    if (local.length > 0) {
      const { LocalCatalog } = await import('../catalog/local.js');
      const { registerKeyDates } = await import('./register.js');
      await registerKeyDates(new LocalCatalog(dest), dest, local);
    }
  } catch {
    // Left behind: each member's next run (or the next compaction's catchUpBehind) registers it.
    return;
  }
  for (const member of current) {
    const next: RegisteredMarker = { runId: journal.runId, catalog: member.catalog, registeredAt: new Date().toISOString() };
    await writeRecord(dest, lakeKeys.registered(member.keyDate), next).catch(() => undefined);
  }
}

/**
 * Key dates whose local catalog is behind their manifest, registered again under their lock: a
 * compaction killed between its publish and catchUpCatalog leaves it so, and compacting again finds
 * the partition compact and publishes nothing that would catch it up. Only the local catalog lists
 * files; Glue and projection know partitions, which compaction never changes. A key date whose lock
 * is held is left to that run, which registers its own state.
 */
async function catchUpBehind(dest: Storage, keyDates: ReadonlySet<string>): Promise<void> {
  const behind = async (keyDate: string) => {
    const marker = await readRecord<RegisteredMarker>(dest, lakeKeys.registered(keyDate)).catch(() => undefined);
    if (marker?.catalog !== 'local') return undefined;
    const manifest = await readRecord<KeyDateManifest>(dest, lakeKeys.manifest(keyDate)).catch(() => undefined);
    return manifest && manifest.runId !== marker.runId ? manifest : undefined;
  };
  for (const keyDate of [...keyDates].sort()) {
    if (!(await behind(keyDate))) continue;
    let locks: MemberLocks;
    try {
      locks = await MemberLocks.acquire(dest, [keyDate], { runId: newRunId(), purpose: 'compact' }, { waitMs: 0 });
    } catch {
      continue;
    }
    try {
      const manifest = await behind(keyDate);
      if (!manifest) continue;
      const { LocalCatalog } = await import('../catalog/local.js');
      const { registerKeyDate } = await import('./register.js');
      await registerKeyDate(new LocalCatalog(dest), dest, keyDate, manifest.files, []);
      const next: RegisteredMarker = { runId: manifest.runId, catalog: 'local', registeredAt: new Date().toISOString() };
      await writeRecord(dest, lakeKeys.registered(keyDate), next);
    } catch {
      // Left behind: the key date's next run registers it.
    } finally {
      await locks.release();
    }
  }
}

/** A member's objects in this partition: their row ranges by file, ordered by first requestdatetime. */
async function objectOrder(source: RowSource, member: Member): Promise<Array<{ index: number; pieces: Piece[] }>> {
  const objects = new Map<number, { index: number; pieces: Piece[]; first: number }>();
  for (const record of member.records) {
    const times = await source.times(record.key);
    let at = record.shared?.offset ?? 0;
    for (let i = 0; i < record.runs.length; i += 2) {
      const index = record.runs[i]!;
      const rows = record.runs[i + 1]!;
      let first = Infinity;
      for (let r = at; r < at + rows; r++) if (times[r]! < first) first = times[r]!;
      let entry = objects.get(index);
      if (!entry) objects.set(index, (entry = { index, pieces: [], first }));
      entry.first = Math.min(entry.first, first);
      entry.pieces.push({ key: record.key, start: at, end: at + rows });
      at += rows;
    }
  }
  const names = member.manifest.objects;
  return [...objects.values()].sort((a, b) => a.first - b.first || compareKeys(names[a.index]!.name, names[b.index]!.name));
}

interface Piece {
  readonly key: string;
  readonly start: number;
  readonly end: number;
}

/** Rows [from, to) of a decoded record batch: what is written, without copying until a chunk is full. */
export interface Slice {
  readonly batch: RecordBatch;
  readonly from: number;
  readonly to: number;
}

/** requestdatetime of a batch's rows as epoch milliseconds: the int64 values' lo/hi words (no BigInt per row). */
function timeWords(batch: RecordBatch): { words: Int32Array; offset: number } {
  const data = batch.getChild('requestdatetime')!.data[0]!;
  const values = data.values as BigInt64Array;
  return { words: new Int32Array(values.buffer, values.byteOffset, values.length * 2), offset: data.offset };
}

const timeAt = (words: Int32Array, row: number): number => words[row * 2 + 1]! * 0x1_0000_0000 + (words[row * 2]! >>> 0);

/**
 * An object's rows in requestdatetime order, stable (rows of one second keep their log order), as
 * slices of the same batches. The sort is a native sort of one number per row, (time - first) * 2^k +
 * position, exact while that stays below 2^53 (a partition is one UTC day: always, in practice); a
 * comparison sort otherwise.
 */
export function byTime(slices: readonly Slice[]): Slice[] {
  let n = 0;
  for (const s of slices) n += s.to - s.from;
  const time = new Float64Array(n);
  let sorted = true;
  let min = Infinity;
  let max = -Infinity;
  let at = 0;
  for (const s of slices) {
    const { words, offset } = timeWords(s.batch);
    for (let r = s.from; r < s.to; r++, at++) {
      const t = timeAt(words, offset + r);
      time[at] = t;
      if (at > 0 && t < time[at - 1]!) sorted = false;
      if (t < min) min = t;
      if (t > max) max = t;
    }
  }
  if (sorted) return [...slices];
  // Output position i → input position order[i].
  let order: Int32Array;
  const shift = 2 ** Math.ceil(Math.log2(n + 1));
  if ((max - min + 1) * shift < 2 ** 53) {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = (time[i]! - min) * shift + i;
    keys.sort();
    order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = keys[i]! % shift;
  } else {
    order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => time[a]! - time[b]! || a - b);
  }
  // Input position → (slice, row), then runs of consecutive rows of one batch as slices.
  const sliceOf = new Int32Array(n);
  const rowOf = new Int32Array(n);
  at = 0;
  slices.forEach((s, k) => {
    for (let r = s.from; r < s.to; r++, at++) {
      sliceOf[at] = k;
      rowOf[at] = r;
    }
  });
  const out: Slice[] = [];
  let i = 0;
  while (i < n) {
    const k = sliceOf[order[i]!]!;
    const from = rowOf[order[i]!]!;
    let to = from + 1;
    i++;
    while (i < n && sliceOf[order[i]!] === k && rowOf[order[i]!] === to) {
      to++;
      i++;
    }
    out.push({ batch: slices[k]!.batch, from, to });
  }
  return out;
}

/**
 * Rows picked from decoded batches, in output order, as ranges over the batches taken as one sequence
 * (keptRows' terms): copied into one contiguous batch when the chunk is handed to the writer.
 */
class RowChunk {
  batches: RecordBatch[] = [];
  ranges: Array<[number, number]> = [];
  rows = 0;
  private starts = new Map<RecordBatch, number>();
  private total = 0;

  add(slice: Slice): void {
    let start = this.starts.get(slice.batch);
    if (start === undefined) {
      start = this.total;
      this.starts.set(slice.batch, start);
      this.batches.push(slice.batch);
      this.total += slice.batch.numRows;
    }
    const from = start + slice.from;
    const to = start + slice.to;
    const last = this.ranges[this.ranges.length - 1];
    if (last && last[1] === from) last[1] = to;
    else this.ranges.push([from, to]);
    this.rows += slice.to - slice.from;
  }

  /** The chunk's rows as one batch; the chunk is empty afterwards. */
  take(): RecordBatch {
    const batch = keptRows(this.batches, this.ranges, this.rows);
    this.batches = [];
    this.ranges = [];
    this.rows = 0;
    this.starts = new Map();
    this.total = 0;
    return batch;
  }
}

/**
 * Reads rows of the partition's files: bytes cached up to BYTES_CACHE, row groups decoded one at a
 * time (the last two kept, since objects are mostly read in file order).
 */
class RowSource {
  private readonly bytes = new Map<string, Uint8Array>();
  private cached = 0;
  private readonly groups = new Map<string, number[]>();
  private readonly decoded = new Map<string, RecordBatch[]>();

  constructor(
    private readonly dest: Storage,
    private readonly pw: ParquetWasm,
  ) {}

  private async file(key: string): Promise<Uint8Array> {
    const hit = this.bytes.get(key);
    if (hit) {
      this.bytes.delete(key);
      this.bytes.set(key, hit);
      return hit;
    }
    const body = await this.dest.get(key);
    this.bytes.set(key, body);
    this.cached += body.length;
    for (const [k, v] of this.bytes) {
      if (this.cached <= BYTES_CACHE || k === key) break;
      this.bytes.delete(k);
      this.cached -= v.length;
    }
    return body;
  }

  private async rowGroups(key: string, body: Uint8Array): Promise<number[]> {
    let groups = this.groups.get(key);
    if (!groups) {
      const facts = await footerFacts(this.pw, body);
      if (facts.schemaVersion !== String(SCHEMA_VERSION))
        throw new RewriteError(
          `${key} has s3logs.schema_version ${facts.schemaVersion ?? 'missing'}, expected ${SCHEMA_VERSION}; convert its key date again first`,
        );
      this.groups.set(key, (groups = facts.groups));
    }
    return groups;
  }

  /** requestdatetime of every row of a file, as epoch milliseconds. */
  async times(key: string): Promise<Float64Array> {
    const body = await this.file(key);
    const rows = footerRowCount(body);
    const groups = await this.rowGroups(key, body);
    if (groups.length === 1 && body.length <= DECODE_WHOLE_BYTES) {
      // A small one-row-group file: decoded whole once, here, and its rows read from that (the row
      // group cache) right after, instead of a second decode of its time column.
      const out = new Float64Array(rows);
      let at = 0;
      for (const batch of this.group(key, body, 0, groups[0]!)) {
        const { words, offset } = timeWords(batch);
        for (let r = 0; r < batch.numRows; r++) out[at++] = timeAt(words, offset + r);
      }
      if (at !== rows) throw new RewriteError(`${key}: read ${at} times of ${rows} rows`);
      return out;
    }
    const table = this.pw.readParquet(body, { columns: ['requestdatetime'], batchSize: 65_536 });
    const out = new Float64Array(rows);
    let at = 0;
    try {
      for (let i = 0; i < table.numBatches; i++) {
        const read = tableFromIPC(table.recordBatch(i)!.intoIPCStream());
        for (const data of read.getChild('requestdatetime')!.data) {
          const values = data.values as BigInt64Array;
          for (let r = 0; r < data.length; r++) out[at++] = Number(values[data.offset + r]);
        }
      }
    } finally {
      table.free();
    }
    if (at !== rows) throw new RewriteError(`${key}: read ${at} times of ${rows} rows`);
    return out;
  }

  /** Rows [start, end) of a file, as slices of its decoded record batches. */
  async range(key: string, start: number, end: number): Promise<Slice[]> {
    const body = await this.file(key);
    const groups = await this.rowGroups(key, body);
    const slices: Slice[] = [];
    let groupStart = 0;
    for (let g = 0; g < groups.length && groupStart < end; g++) {
      const groupEnd = groupStart + groups[g]!;
      if (groupEnd > start) {
        let batchStart = groupStart;
        for (const batch of this.group(key, body, g, groups[g]!)) {
          const batchEnd = batchStart + batch.numRows;
          const from = Math.max(start, batchStart);
          const to = Math.min(end, batchEnd);
          if (from < to) slices.push({ batch, from: from - batchStart, to: to - batchStart });
          batchStart = batchEnd;
        }
      }
      groupStart = groupEnd;
    }
    return slices;
  }

  private group(key: string, body: Uint8Array, g: number, rows: number): RecordBatch[] {
    const id = `${key}#${g}`;
    let batches = this.decoded.get(id);
    if (!batches) {
      batches = readRowGroup(this.pw, body, g);
      const read = batches.reduce((n, b) => n + b.numRows, 0);
      if (read !== rows) throw new RewriteError(`Parquet reader returned ${read} rows for row group ${g} of ${key}, expected ${rows}`);
      this.decoded.set(id, batches);
      while (this.decoded.size > 2) this.decoded.delete(this.decoded.keys().next().value!);
    }
    return batches;
  }

  /** An object's rows in the partition (pieces in several files), as slices of decoded batches. */
  async slices(pieces: readonly Piece[]): Promise<Slice[]> {
    const slices: Slice[] = [];
    for (const p of pieces) slices.push(...(await this.range(p.key, p.start, p.end)));
    return slices;
  }
}

/**
 * parquet-wasm's streaming writer fed one batch at a time (backpressure: at most one batch queued);
 * `bytes` counts the row groups written so far.
 */
class StreamedParquet {
  private controller!: ReadableStreamDefaultController<unknown>;
  private wake: (() => void) | undefined;
  private readonly chunks: Uint8Array[] = [];
  private failure: unknown;
  private readonly output: Promise<void>;
  bytes = 0;
  rows = 0;

  constructor(
    private readonly pw: ParquetWasm,
    props: WriterProperties,
  ) {
    const input = new ReadableStream<unknown>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => this.release(),
      },
      { highWaterMark: 1 },
    );
    this.output = (async () => {
      const stream = (await pw.transformParquetStream(input as ReadableStream, props)) as ReadableStream<Uint8Array>;
      const reader = stream.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        this.chunks.push(value);
        this.bytes += value.length;
      }
    })();
    this.output.catch((error: unknown) => {
      this.failure = error;
      this.release();
    });
  }

  private release(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async write(batch: RecordBatch): Promise<void> {
    if (this.failure) throw this.failure;
    const table = this.pw.Table.fromIPCStream(tableToIPC(new Table(ARROW_SCHEMA, [batch]), 'stream'));
    try {
      for (const b of table.recordBatches()) this.controller.enqueue(b);
    } finally {
      table.free();
    }
    this.rows += batch.numRows;
    while ((this.controller.desiredSize ?? 0) <= 0 && !this.failure) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.failure) throw this.failure;
  }

  /** The whole file (footer slimmed), its footer's row count checked against the rows put in. */
  async close(): Promise<Uint8Array> {
    this.controller.close();
    await this.output;
    const bytes = slimFooter(Buffer.concat(this.chunks), KEEP_ENCODING_STATS);
    const written = footerRowCount(bytes);
    if (written !== this.rows)
      throw new RewriteError(`Parquet writer wrote ${written} rows but was given ${this.rows}; the file was not published`);
    return bytes;
  }

  abort(): void {
    try {
      this.controller.error(new Error('aborted'));
    } catch {
      // already closed
    }
    this.output.catch(() => undefined);
  }
}

interface Segment {
  readonly keyDate: string;
  readonly offset: number;
  rows: number;
  readonly runs: number[];
}

interface WrittenFile {
  readonly key: string;
  readonly stagingKey: string;
  readonly rows: number;
  readonly bytes: number;
  readonly segments: readonly Segment[];
}

/**
 * How many of `rows` rows to write after `written` so that the writes end where a row group ends or
 * at a multiple of PAGE_ALIGN_ROWS rows into one (`written` is such a place: every write but a file's
 * last ends at one).
 */
export function alignedRows(written: number, rows: number, rowGroupRows: number): number {
  const end = written + rows;
  const groupStart = end - (end % rowGroupRows);
  return Math.max(0, groupStart + Math.floor((end - groupStart) / PAGE_ALIGN_ROWS) * PAGE_ALIGN_ROWS - written);
}

/** Output files of one group, staged as they are finished; segments and runs recorded per member. */
class OutputFiles {
  readonly files: WrittenFile[] = [];
  private current: { writer: StreamedParquet; segments: Segment[]; chunk: RowChunk; rows: number } | undefined;

  constructor(
    private readonly dest: Storage,
    private readonly pw: ParquetWasm,
    private readonly options: WriteOptions,
    private readonly staging: string,
    private readonly name: (index: number, members: string[]) => string,
  ) {}

  /**
   * Bytes of the row groups written so far. The streaming writer works in promise callbacks: one turn
   * of the event loop lets every chunk it can emit arrive, so the cut does not depend on timing.
   */
  async currentBytes(): Promise<number> {
    const current = this.current;
    if (!current) return 0;
    // Bytes grow only when a row group completes (at exactly rowGroupRows rows): when the rows held back
    // in the chunk would complete one, they go to the writer first, so that a file is cut where it would be
    // had every object's rows gone to the writer at once.
    const rowGroupRows = this.options.rowGroupRows;
    // The aligned part of the chunk still completes the row group (alignedRows never stops short of a
    // row group's end).
    if (current.chunk.rows > 0 && (current.writer.rows % rowGroupRows) + current.chunk.rows >= rowGroupRows) await this.writeChunk(current);
    await new Promise<void>((resolve) => setImmediate(resolve));
    return current.writer.bytes;
  }

  /** Appends an object's rows (slices of decoded batches, in output order) to the current file. */
  async write(keyDate: string, object: number, slices: readonly Slice[]): Promise<void> {
    let rows = 0;
    for (const slice of slices) rows += slice.to - slice.from;
    if (rows === 0) return;
    if (!this.current) {
      const { writerProperties } = await import('./write.js');
      this.current = { writer: new StreamedParquet(this.pw, writerProperties(this.options)), segments: [], chunk: new RowChunk(), rows: 0 };
    }
    const current = this.current;
    const segments = current.segments;
    let segment = segments[segments.length - 1];
    if (segment?.keyDate !== keyDate) segments.push((segment = { keyDate, offset: current.rows, rows: 0, runs: [] }));
    const runs = segment.runs;
    if (runs.length > 0 && runs[runs.length - 2] === object) runs[runs.length - 1]! += rows;
    else runs.push(object, rows);
    segment.rows += rows;
    current.rows += rows;
    for (const slice of slices) current.chunk.add(slice);
    // Many objects' rows go to the writer in one copy and one hand-off: per batch, the Arrow IPC round
    // trip into wasm costs about as much as a few thousand rows. The chunk holds references to at most
    // CHUNK_BATCHES decoded batches (memory), and at most CHUNK_ROWS rows are copied at once.
    if (current.chunk.rows >= CHUNK_ROWS || current.chunk.batches.length >= CHUNK_BATCHES) await this.writeChunk(current);
  }

  /**
   * Writes the chunk's rows up to a multiple of PAGE_ALIGN_ROWS (all of them with `all`: a file's last
   * write); the rest stays in the chunk, as a slice of the batch just built, and goes with the next write.
   */
  private async writeChunk(current: { writer: StreamedParquet; chunk: RowChunk }, all = false): Promise<void> {
    const batch = current.chunk.take();
    const aligned = all ? batch.numRows : alignedRows(current.writer.rows, batch.numRows, this.options.rowGroupRows);
    if (aligned === batch.numRows) return current.writer.write(batch);
    if (aligned > 0) await current.writer.write(batch.slice(0, aligned));
    current.chunk.add({ batch, from: aligned, to: batch.numRows });
  }

  async finish(): Promise<void> {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    if (current.chunk.rows > 0) await this.writeChunk(current, true);
    const bytes = await current.writer.close();
    const key = this.name(
      this.files.length,
      current.segments.map((s) => s.keyDate),
    );
    const stagingKey = `${this.staging}${key}.staged`;
    await this.dest.put(stagingKey, bytes, { contentType: 'application/vnd.apache.parquet' });
    this.files.push({ key, stagingKey, rows: current.writer.rows, bytes: bytes.length, segments: current.segments });
  }

  async abort(): Promise<void> {
    this.current?.writer.abort();
    this.current = undefined;
    const page = await this.dest.list(this.staging).catch(() => undefined);
    if (page?.objects.length) await this.dest.delete(page.objects.map((o) => o.key)).catch(() => undefined);
  }
}

export interface SplitRequest {
  readonly keyDate: string;
  /** The publish lock of `keyDate`, which the caller holds. */
  readonly lock: LeaseLock;
  /** Shared files of `keyDate`'s manifest to split. */
  readonly files: readonly FileRecord[];
  readonly concurrency: number;
  readonly writeOptions: WriteOptions;
  readonly lockWaitMs: number;
}

/**
 * Before a key date drops or carries rows of a compacted file: the file is rewritten into one file per
 * member (each member's segment, rows unchanged) in one group publish over its members.
 */
export async function splitSharedFiles(dest: Storage, request: SplitRequest): Promise<void> {
  const runId = newRunId();
  const keyDates = [...new Set(request.files.flatMap((f) => f.shared!.members))].sort();
  const locks = await MemberLocks.acquire(
    dest,
    keyDates,
    { runId, purpose: `split for ${request.keyDate}` },
    { waitMs: request.lockWaitMs, held: new Map([[request.keyDate, request.lock]]) },
  );
  try {
    for (const keyDate of keyDates)
      if (keyDate !== request.keyDate) await recoverPublishes(dest, keyDate, locks.get(keyDate), request.concurrency);
    const manifests = new Map<string, { manifest: KeyDateManifest; version: string }>();
    for (const keyDate of keyDates) {
      const found = await readVersionedRecord<KeyDateManifest>(dest, lakeKeys.manifest(keyDate));
      if (found) manifests.set(keyDate, { manifest: found.record, version: found.version });
    }
    const pw = loadParquetWasm();
    const source = new RowSource(dest, pw);
    const staging = lakeKeys.groupStaging(runId);
    const replaced = new Map<string, Map<string, FileRecord>>();
    const moves: Array<readonly [string, string]> = [];
    const deletes: string[] = [];
    for (const file of request.files) {
      // The file as the manifests list it now (a recovery above may have changed them).
      const holders = keyDates
        .map((keyDate) => ({ keyDate, record: manifests.get(keyDate)?.manifest.files.find((f) => f.key === file.key) }))
        .filter((h): h is { keyDate: string; record: FileRecord } => h.record !== undefined);
      if (holders.length === 0) continue;
      deletes.push(file.key);
      const dir = file.key.slice(0, file.key.lastIndexOf('/') + 1);
      const tag = shortHash(runId + '\n' + file.key);
      for (const { keyDate, record } of holders) {
        const out = new OutputFiles(dest, pw, request.writeOptions, staging, () => `${dir}part-${keyDate}-s${tag}.parquet`);
        try {
          const offset = record.shared?.offset ?? 0;
          for (let at = offset; at < offset + record.rows; at += COPY_BATCH_ROWS) {
            const end = Math.min(offset + record.rows, at + COPY_BATCH_ROWS);
            // Runs are kept as they are; the object index written here is only a placeholder.
            await out.write(keyDate, 0, await source.range(record.key, at, end));
          }
          await out.finish();
        } catch (error) {
          await out.abort();
          throw error;
        }
        const written = out.files[0]!;
        if (written.rows !== record.rows)
          throw new StorageError(`splitting ${file.key} wrote ${written.rows} rows of ${keyDate}'s ${record.rows}`, 'io', file.key);
        moves.push([written.stagingKey, written.key]);
        let forMember = replaced.get(keyDate);
        if (!forMember) replaced.set(keyDate, (forMember = new Map()));
        forMember.set(record.key, {
          key: written.key,
          bucket: record.bucket,
          dt: record.dt,
          rows: record.rows,
          bytes: written.bytes,
          runs: record.runs,
        });
      }
    }
    if (moves.length === 0) return;
    const now = new Date().toISOString();
    const journal: GroupJournal = {
      kind: 's3logs/group-journal',
      runId,
      purpose: 'split',
      createdAt: now,
      members: [...replaced.entries()].map(([keyDate, records]) => {
        const base = manifests.get(keyDate)!;
        const manifest: KeyDateManifest = {
          ...base.manifest,
          runId,
          publishedBy: 'compact',
          tool: { name: TOOL_NAME, version: TOOL_VERSION },
          createdAt: now,
          files: base.manifest.files.map((f) => records.get(f.key) ?? f).sort((a, b) => compareKeys(a.key, b.key)),
        };
        checkManifest(manifest);
        return { keyDate, baseVersion: base.version, manifest };
      }),
      moves,
      deletes,
      staging,
    };
    await publishGroup(dest, journal, locks, request.concurrency);
    // The other members' shared files are gone: their catalog entries follow (the requesting key date
    // registers its own files when its run publishes).
    await catchUpCatalog(
      dest,
      journal,
      journal.members
        .filter((m) => m.keyDate !== request.keyDate)
        .map((m) => ({ keyDate: m.keyDate, manifest: manifests.get(m.keyDate)!.manifest })),
    );
  } finally {
    await locks.release();
  }
}
