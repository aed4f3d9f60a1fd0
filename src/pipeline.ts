/**
 * The one place the stages are chained, per key date:
 *   list → fetch → parse → build Arrow → write Parquet (staged) → commit → register.
 * The pipeline sees only the Storage and Catalog interfaces.
 */
import { randomBytes } from 'node:crypto';
import { SCHEMA_VERSION } from '../schemas/accessLog.js';
import type { Catalog } from './catalog/Catalog.js';
import { errorMessage, KeyDateError, type Stage } from './errors.js';
import { failpoint } from './failpoints.js';
import { KeyDateLock } from './lock.js';
import { tableDefinition } from './schema/table.js';
import { commitShards, shardTag, writeShardManifest, type ShardSpec } from './shards.js';
import type { ObjectInfo, Storage } from './storage/Storage.js';
import {
  clearStaging,
  commitKeyDate,
  inputsFingerprint,
  lockKey,
  previousOutputs,
  registeredKey,
  readManifest,
  stagingRoot,
  type KeyDateCounts,
  type KeyDateManifest,
  type ManifestFile,
} from './stages/commit.js';
import { fetchInOrder } from './stages/fetch.js';
import { listKeyDate, ObjectFeed, type KeyDateListing, type KeyLayout } from './stages/list.js';
import { inThreadEncoder, workerEncoder, workersAvailable } from './stages/encoder.js';
import { LineSpans, parseLogObject, type ParseCounts } from './stages/parse.js';
import { DEFAULT_FILE_BYTES, objectSink, PartitionWriter, RejectWriter, type EncodedPartitionFile, type StagedFile } from './stages/partition.js';
import { registerKeyDate } from './stages/register.js';
import type { Compression } from './stages/writeOptions.js';
import { TOOL_NAME, TOOL_VERSION } from './version.js';

export interface SourceLocation {
  readonly storage: Storage;
  /** Key prefix of the raw logs inside the source storage (may be '' or end mid-name, e.g. `logs/emr`). */
  readonly prefix: string;
}

export interface ConvertSettings {
  readonly source: SourceLocation;
  readonly dest: Storage;
  readonly catalog: Catalog;
  readonly database?: string;
  readonly table?: string;
  readonly layout: KeyLayout;
  readonly concurrency: number;
  readonly compression: Compression;
  readonly memoryBudget: number;
  readonly maxFileRows: number;
  /** Column bytes that make a partition buffer a file (bounds encode memory). */
  readonly maxFileBytes?: number;
  readonly rowGroupRows: number;
  /** Worker threads that encode Parquet while the main thread parses; 0 encodes on the main thread. */
  readonly workers?: number;
  /** Convert only this shard of each key date's objects; the last shard to finish commits. */
  readonly shard?: ShardSpec;
  /** Skip a key date whose manifest records the same inputs and schema version (resumable jobs). */
  readonly skipUnchanged?: boolean;
  /** Stop taking new objects when aborted (SIGINT/SIGTERM); nothing of the key date is published. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: ProgressEvent) => void;
}

export type ProgressEvent =
  | { type: 'listed'; keyDate: string; objects: number; bytes: number }
  /** total: objects listed so far; listing: more may follow (the listing is still going on). */
  | { type: 'object'; keyDate: string; done: number; total: number; listing: boolean; bytes: number; rows: number; objectKey: string; object: ParseCounts }
  | { type: 'committed'; keyDate: string };

export type KeyDateStatus = 'converted' | 'unchanged' | 'empty' | 'staged' | 'failed';

export interface KeyDateSummary extends KeyDateCounts {
  keyDate: string;
  /** converted; unchanged (skipped: same inputs); empty (no objects); staged (a shard waiting for the others); failed. */
  status: KeyDateStatus;
  filesWritten: number;
  bytesOut: number;
  partitions: number;
  rejectFiles: string[];
  staleFilesDeleted: number;
  catalog: { created: number; updated: number; unchanged: number; removed: number };
  seconds: number;
  /** Where the time went, per stage (fetch = waiting for object bodies). */
  stageSeconds: Partial<Record<Stage, number>>;
  error?: { stage: Stage; message: string };
}

function emptyCounts(): KeyDateCounts {
  return { objects: 0, bytesIn: 0, lines: 0, rows: 0, rejects: 0, repairedUtf8: 0 };
}

export function newSummary(keyDate: string): KeyDateSummary {
  return {
    keyDate,
    status: 'converted',
    ...emptyCounts(),
    filesWritten: 0,
    bytesOut: 0,
    partitions: 0,
    rejectFiles: [],
    staleFilesDeleted: 0,
    catalog: { created: 0, updated: 0, unchanged: 0, removed: 0 },
    seconds: 0,
    stageSeconds: {},
  };
}

function newRunId(): string {
  return `${new Date().toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;
}

/** Converts one key date; never throws for data or storage problems — a failure is in the summary. */
export async function convertKeyDate(settings: ConvertSettings, keyDate: string): Promise<KeyDateSummary> {
  const started = performance.now();
  const summary = newSummary(keyDate);
  let stage: Stage = 'list';
  let since = started;
  const at = (next: Stage) => {
    const now = performance.now();
    summary.stageSeconds[stage] = (summary.stageSeconds[stage] ?? 0) + (now - since) / 1000;
    stage = next;
    since = now;
  };
  const tag = shardTag(settings.shard);
  try {
    await runKeyDate(settings, keyDate, summary, at);
    at(stage);
  } catch (error) {
    summary.status = 'failed';
    summary.error = { stage, message: errorMessage(error) };
    // Nothing of this run is published before commit; drop what it staged.
    await clearStaging(settings.dest, `${stagingRoot(keyDate)}${tag}/`).catch(() => undefined);
  }
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

function selectShard(objects: readonly ObjectInfo[], shard: ShardSpec | undefined): ObjectInfo[] {
  if (!shard) return [...objects];
  // Contiguous slices of the sorted listing: deterministic, and each shard's files stay in key order.
  const from = Math.floor((objects.length * shard.index) / shard.count);
  const to = Math.floor((objects.length * (shard.index + 1)) / shard.count);
  return objects.slice(from, to);
}

async function runKeyDate(settings: ConvertSettings, keyDate: string, summary: KeyDateSummary, at: (stage: Stage) => void): Promise<void> {
  const { source } = settings;
  at('list');
  // Fetching starts with the first listed page, unless the whole listing decides what to do (a
  // fingerprint to compare, or a shard's slice of it).
  const streaming = !settings.skipUnchanged && !settings.shard;
  const feed = new ObjectFeed();
  const listing = new AbortController();
  const listed = listKeyDate(source.storage, source.prefix, keyDate, settings.layout, {
    parallel: settings.concurrency,
    // Beside a running fetch the listing only has to stay ahead of the GETs.
    ...(streaming ? { rangeParallel: Math.min(2, settings.concurrency) } : {}),
    feed,
    signal: listing.signal,
  });
  // Failures also reach the feed, which the fetch loop reads; the promise is awaited once fetching is done.
  listed.catch(() => undefined);
  try {
    await convertListed(settings, keyDate, summary, at, { feed, listed, streaming });
  } finally {
    // A key date that failed (or was skipped) while the listing went on sends no more list requests.
    listing.abort(new Error(`${keyDate}: listing stopped, the key date ended`));
  }
}

interface Listing {
  readonly feed: ObjectFeed;
  readonly listed: Promise<KeyDateListing>;
  /** The fetch runs beside the listing (no fingerprint or shard slice needed first). */
  readonly streaming: boolean;
}

async function convertListed(settings: ConvertSettings, keyDate: string, summary: KeyDateSummary, at: (stage: Stage) => void, { feed, listed, streaming }: Listing): Promise<void> {
  const { source, dest } = settings;
  const interrupted = () => {
    if (settings.signal?.aborted) throw new KeyDateError(`interrupted (${String(settings.signal.reason ?? 'signal')}); nothing of ${keyDate} was published`, keyDate, 'fetch');
  };
  const announce = (objects: readonly ObjectInfo[]) => {
    failpoint('listed');
    settings.onProgress?.({ type: 'listed', keyDate, objects: objects.length, bytes: objects.reduce((sum, o) => sum + o.size, 0) });
  };
  if (streaming) await feed.ready();
  if (streaming && !feed.done) {
    listed.then((listing) => announce(listing.objects), () => undefined);
  } else {
    announce((await listed).objects);
  }
  if (feed.objects.length === 0) {
    // Raw logs may have expired: never retire earlier output because the source is empty now.
    summary.status = 'empty';
    return;
  }
  if (settings.skipUnchanged) {
    const manifest = await readManifest(dest, keyDate);
    if (manifest?.inputsFingerprint === inputsFingerprint(feed.objects) && manifest.schemaVersion === SCHEMA_VERSION) {
      summary.status = 'unchanged';
      at('register');
      const catalog = await registerIfMissing(settings, manifest);
      if (catalog) summary.catalog = catalog;
      return;
    }
  }
  interrupted();

  const tag = shardTag(settings.shard);
  const runId = newRunId();
  const lock = await KeyDateLock.acquire(dest, lockKey(keyDate, tag), runId);
  try {
    await clearStaging(dest, `${stagingRoot(keyDate)}${tag}/`);
    const staging = `${stagingRoot(keyDate)}${tag}/${runId}/`;
    const rejects = new RejectWriter(dest, keyDate, staging, settings.shard ? `${tag}-` : '');
    const staged: StagedFile[] = [];
    const objects = settings.shard ? selectShard(feed.objects, settings.shard) : feed;
    let done = 0;
    const sink = async (file: EncodedPartitionFile) => {
      // Staged names must not end in .parquet: `<dest>/**/*.parquet` has to see table files only.
      const stagingKey = `${staging}${file.key}.staged`;
      await dest.put(stagingKey, file.bytes, { contentType: 'application/vnd.apache.parquet' });
      staged.push({ key: file.key, stagingKey, partition: file.partition, rows: file.rows, bytes: file.bytes.length });
      failpoint('staged');
    };
    const writeOptions = { compression: settings.compression, rowGroupRows: settings.rowGroupRows, createdBy: `${TOOL_NAME} ${TOOL_VERSION}` };
    const workers = settings.workers ?? 0;
    const encoder = workers > 0 && workersAvailable() ? workerEncoder(workers, writeOptions) : inThreadEncoder(writeOptions);
    const writer = new PartitionWriter(
      sink,
      { ...writeOptions, keyDate, filePrefix: settings.shard ? `part-${keyDate}-${tag}-` : `part-${keyDate}-`, memoryBudget: settings.memoryBudget, maxFileRows: settings.maxFileRows, maxFileBytes: settings.maxFileBytes ?? DEFAULT_FILE_BYTES },
      encoder,
      // One file queued behind each worker's keeps it busy; more would only hold more memory.
      Math.max(1, workers + 1),
    );
    const spans = new LineSpans();
    try {
      at('fetch');
      for await (const { info, body } of fetchInOrder(source.storage, objects, settings.concurrency)) {
        interrupted();
        at('parse');
        const sourceKey = source.storage.uri + info.key;
        const counts = parseLogObject(body, objectSink(writer, (line, reason, detail, raw) => rejects.add(sourceKey, line, reason, detail, raw)), spans);
        failpoint('parsed');
        summary.objects++;
        summary.bytesIn += body.length;
        summary.lines += counts.lines;
        summary.rows += counts.rows;
        summary.rejects += counts.rejects;
        summary.repairedUtf8 += counts.repairedUtf8;
        at('write');
        await writer.flushFull();
        if (rejects.shouldSpill()) await rejects.spill();
        const total = objects instanceof ObjectFeed ? objects.objects.length : objects.length;
        settings.onProgress?.({ type: 'object', keyDate, done: ++done, total, listing: objects instanceof ObjectFeed && !objects.done, bytes: summary.bytesIn, rows: summary.rows, objectKey: sourceKey, object: counts });
        at('fetch');
      }
      interrupted();
      at('write');
      await writer.flushAll();
      // Every object was fetched, so the listing is complete; this only surfaces its own result.
      await listed;
    } catch (error) {
      // A listing that failed half-way surfaces in the fetch loop; report it where it happened.
      if (error === feed.error) at('list');
      throw error;
    } finally {
      await encoder.close();
    }
    await rejects.spill();
    if (summary.lines !== summary.rows + summary.rejects) {
      throw new KeyDateError(`line count does not reconcile: ${summary.lines} lines, ${summary.rows} rows, ${summary.rejects} rejects`, keyDate, 'parse');
    }
    const writtenRows = staged.reduce((sum, f) => sum + f.rows, 0);
    if (writtenRows !== summary.rows) throw new KeyDateError(`wrote ${writtenRows} rows to Parquet but parsed ${summary.rows}`, keyDate, 'write');
    // Files arrive from workers in any order; the manifest lists them in key order.
    staged.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    interrupted();

    at('commit');
    const parts = { files: staged, rejects: rejects.staged, counts: countsOf(summary) };
    if (settings.shard) {
      await lock.verify();
      await writeShardManifest(dest, keyDate, settings.shard, { runId, inputsFingerprint: inputsFingerprint(feed.objects), objects: feed.objects, ...parts });
      await lock.release();
      const committed = await commitShards(settings, keyDate, settings.shard.count);
      if (!committed) {
        summary.status = 'staged';
        return;
      }
      Object.assign(summary, committed.outcome);
      return;
    }
    await lock.verify();
    const outcome = await publish(settings, keyDate, runId, { inputsFingerprint: inputsFingerprint(feed.objects), objects: feed.objects, shards: 1, ...parts }, at);
    Object.assign(summary, outcome);
  } finally {
    await lock.release();
  }
}

function countsOf(summary: KeyDateSummary): KeyDateCounts {
  const { objects, bytesIn, lines, rows, rejects, repairedUtf8 } = summary;
  return { objects, bytesIn, lines, rows, rejects, repairedUtf8 };
}

export interface StagedKeyDate {
  inputsFingerprint: string;
  objects: readonly ObjectInfo[];
  shards: number;
  files: readonly StagedFile[];
  rejects: ReadonlyArray<{ key: string; stagingKey: string; rejects: number }>;
  counts: KeyDateCounts;
}

export type PublishOutcome = Pick<KeyDateSummary, 'filesWritten' | 'bytesOut' | 'partitions' | 'rejectFiles' | 'staleFilesDeleted' | 'catalog'>;

/** Commit (publish staged files, retire stale ones, manifest last), then register the partitions. */
export async function publish(settings: ConvertSettings, keyDate: string, runId: string, staged: StagedKeyDate, at: (stage: Stage) => void = () => undefined): Promise<PublishOutcome> {
  const { dest } = settings;
  const previousManifest = await readManifest(dest, keyDate);
  const previous = await previousOutputs(dest, keyDate);
  const files: ManifestFile[] = staged.files.map((f) => ({ key: f.key, bucket: f.partition.bucket, dt: f.partition.dt, rows: f.rows, bytes: f.bytes }));
  const manifest: KeyDateManifest = {
    kind: 's3logs/keydate-manifest',
    manifestVersion: 1,
    keyDate,
    runId,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    schemaVersion: SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    source: settings.source.storage.uri + settings.source.prefix,
    inputsFingerprint: staged.inputsFingerprint,
    shards: staged.shards,
    objects: staged.objects.map((o) => ({ key: o.key, size: o.size, etag: o.etag })),
    files,
    rejectFiles: staged.rejects.map((r) => ({ key: r.key, rejects: r.rejects })),
    counts: staged.counts,
  };
  const committed = await commitKeyDate(dest, manifest, [...staged.files, ...staged.rejects], previous);
  settings.onProgress?.({ type: 'committed', keyDate });
  const outcome: PublishOutcome = {
    filesWritten: files.length,
    bytesOut: files.reduce((sum, f) => sum + f.bytes, 0),
    partitions: new Set(files.map((f) => `${f.bucket}/${f.dt}`)).size,
    rejectFiles: staged.rejects.map((r) => dest.uri + r.key),
    staleFilesDeleted: committed.deletedStale.length,
    catalog: { created: 0, updated: 0, unchanged: 0, removed: 0 },
  };
  at('register');
  failpoint('before-register');
  outcome.catalog = await register(settings, keyDate, runId, files, previousManifest?.files ?? []);
  return outcome;
}

async function register(settings: ConvertSettings, keyDate: string, runId: string, files: readonly ManifestFile[], previousFiles: readonly ManifestFile[]): Promise<PublishOutcome['catalog']> {
  if (settings.catalog.kind === 'none') return { created: 0, updated: 0, unchanged: 0, removed: 0 };
  await settings.catalog.ensureTable(tableDefinition(settings.dest.uri, settings.database, settings.table));
  const result = await registerKeyDate(settings.catalog, settings.dest, keyDate, files, previousFiles);
  await settings.dest.put(registeredKey(keyDate), Buffer.from(JSON.stringify({ runId, catalog: settings.catalog.kind })));
  return result;
}

/** A skipped key date whose last run died before registering (or was registered elsewhere) is registered now. */
async function registerIfMissing(settings: ConvertSettings, manifest: KeyDateManifest): Promise<PublishOutcome['catalog'] | undefined> {
  if (settings.catalog.kind === 'none') return undefined;
  let marker: { runId?: string; catalog?: string } | undefined;
  try {
    marker = JSON.parse(Buffer.from(await settings.dest.get(registeredKey(manifest.keyDate))).toString('utf8'));
  } catch {
    marker = undefined;
  }
  if (marker?.runId === manifest.runId && marker.catalog === settings.catalog.kind) return undefined;
  return register(settings, manifest.keyDate, manifest.runId, manifest.files, []);
}
