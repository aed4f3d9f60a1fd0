/**
 * The one place the stages are chained. A key date's run:
 *   list → skip if unchanged → lock → stream (fetch → parse → build → write, staged) → reconcile
 *        → stage (a shard) or publish → register → tag
 * The pipeline sees only the Storage and Catalog interfaces; what the lake holds and how a publish
 * keeps every raw object's rows exactly once is the commit stage's (src/stages/commit.ts).
 */
import { createHash } from 'node:crypto';
import { SCHEMA_VERSION } from '../schemas/accessLog.js';
import type { Catalog } from './catalog/Catalog.js';
import { compareKeys } from './compare.js';
import { DecompressError, InterruptedError, KeyDateError, LockedError, type Stage } from './errors.js';
import { failpoint } from './failpoints.js';
import { LeaseLock } from './lock.js';
import {
  countsOf,
  lakeKeys,
  objectName,
  readManifest,
  readRecord,
  writeRecord,
  type KeyDateManifest,
  type ListingScope,
  type ObjectRecord,
  type RegisteredMarker,
  type StagedFileRecord,
  type StagedPart,
} from './records.js';
import { tableDefinition } from './schema/table.js';
import { newRunId } from './runId.js';
import { listShardManifests, readShardRound, shardLabel, shardTag, writeShardManifest, type ShardSpec } from './shards.js';
import type { ObjectInfo, Storage } from './storage/Storage.js';
import { clearPrefix, inScope, publish, recoverPublishes, shardOf, type PublishOutcome } from './stages/commit.js';
import { deferredEncoder, inThreadEncoder, workerEncoder, workersAvailable } from './stages/encoder.js';
import { decompressObject } from './stages/decompress.js';
import { fetchInOrder } from './stages/fetch.js';
import { listKeyDate, ObjectFeed, type KeyDateListing, type KeyLayout } from './stages/list.js';
import { LineSpans, parseLogObject } from './stages/parse.js';
import { DEFAULT_FILE_BYTES, objectSink, PartitionWriter, RejectWriter, type EncodedPartitionFile } from './stages/partition.js';
import { Redactor, sameRedact, type RedactMode } from './stages/redact.js';
import { registerKeyDate } from './stages/register.js';
import { useWasmTier, wasmTierFor } from './stages/wasmTier.js';
import type { Compression, WriteOptions } from './stages/writeOptions.js';
import { failSummary, newSummary, type KeyDateSummary, type ProgressEvent } from './summary.js';
import { TOOL_NAME, TOOL_VERSION } from './version.js';
import { grouped } from './numberText.js';

export type { KeyDateSummary, ProgressEvent } from './summary.js';

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
  /**
   * A run whose listing is complete and holds fewer raw bytes than this when its first file is ready
   * encodes on the main thread whatever `workers` says (the default when --workers is not given);
   * unset: `workers` always.
   */
  readonly inThreadBelowBytes?: number;
  /** Convert only this shard of each key date's objects; the last shard to finish commits. */
  readonly shard?: ShardSpec;
  /** Skip a key date whose manifest already holds every listed object as it is now (resumable jobs). */
  readonly skipUnchanged?: boolean;
  /** Objects of the key date that are gone from the source lose their rows (default: kept). */
  readonly deleteVanished?: boolean;
  /** --redact: values removed from rows before they are written (default none: rows as logged). */
  readonly redact?: readonly RedactMode[];
  /** A key date (a shard: its part) whose rejected lines exceed this share fails; default 1 (off). */
  readonly maxRejectRatio?: number;
  /**
   * How long to wait for a lock another live run holds: the run's own lock (default 0: fail at once,
   * exit 75) and the publish lock a last shard or `s3logs commit` needs (default 10 minutes: shards that
   * finish together queue behind each other's commit).
   */
  readonly lockWaitMs?: number;
  /** Tags the raw objects a publish covered (--tag-converted); keys relative to the source store. */
  readonly tagObjects?: (keys: string[]) => Promise<void>;
  /** Stop taking new objects when aborted (SIGINT/SIGTERM); nothing of the key date is published. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: ProgressEvent) => void;
}

/** The reject guard fails a key date only above its ratio and above this many rejected lines. */
const GUARD_MIN_REJECTS = 10;

/** Default wait of a last shard for the publish lock: a few leases of another shard's commit. */
const LOCK_WAIT_MS = 10 * 60_000;

/** Converts one key date; never throws for data or storage problems — a failure is in the summary. */
export async function convertKeyDate(settings: ConvertSettings, keyDate: string): Promise<KeyDateSummary> {
  const run = new KeyDateRun(settings, keyDate);
  try {
    await runKeyDate(run);
    run.done();
  } catch (error) {
    await run.fail(error);
  }
  return run.summary;
}

async function runKeyDate(run: KeyDateRun): Promise<void> {
  const listing = run.list();
  try {
    await run.recoverIfPending();
    if (await run.skipIfUnchanged(listing)) return;
    const lock = await run.lock();
    try {
      const part = await run.stream(listing);
      if (!part) return;
      run.reconcile(part);
      await run.stageOrPublish(part, lock);
    } finally {
      await lock.release();
    }
  } finally {
    listing.stop.abort(new Error(`${run.keyDate}: listing stopped, the key date ended`));
  }
}

/** --dry-run: lists the key date and compares it with what the lake holds; writes nothing. */
export async function planKeyDate(settings: ConvertSettings, keyDate: string): Promise<KeyDateSummary> {
  const run = new KeyDateRun(settings, keyDate);
  try {
    await run.plan();
    run.done();
  } catch (error) {
    await run.fail(error);
  }
  return run.summary;
}

/** `s3logs commit`: publishes a round of `count` shards that have all staged. */
export async function commitKeyDate(settings: ConvertSettings, keyDate: string, count: number): Promise<KeyDateSummary> {
  const run = new KeyDateRun(settings, keyDate);
  try {
    await run.commitRound(count);
    run.done();
  } catch (error) {
    await run.fail(error);
  }
  return run.summary;
}

interface Listing {
  readonly feed: ObjectFeed;
  readonly listed: Promise<KeyDateListing>;
  readonly stop: AbortController;
}

class KeyDateRun {
  readonly summary: KeyDateSummary;
  readonly runId = newRunId();
  private stage: Stage = 'list';
  private since = performance.now();
  private readonly started = this.since;
  /** A shard manifest or publish journal refers to this run's staging: a failure must leave it. */
  private stagingInUse = false;
  private rejectReasons = new Map<number, Map<string, number>>();

  constructor(
    readonly settings: ConvertSettings,
    readonly keyDate: string,
  ) {
    this.summary = newSummary(keyDate);
  }

  private at(next: Stage): void {
    const now = performance.now();
    this.summary.stageSeconds[this.stage] = (this.summary.stageSeconds[this.stage] ?? 0) + (now - this.since) / 1000;
    this.stage = next;
    this.since = now;
  }

  private get dest(): Storage {
    return this.settings.dest;
  }

  private get scope(): ListingScope {
    const { source, layout } = this.settings;
    return { storageUri: source.storage.uri, prefix: source.prefix, layout };
  }

  private get writeOptions(): WriteOptions {
    return { compression: this.settings.compression, rowGroupRows: this.settings.rowGroupRows, createdBy: `${TOOL_NAME} ${TOOL_VERSION}` };
  }

  private interrupted(): void {
    const signal = this.settings.signal;
    if (signal?.aborted)
      throw new InterruptedError(
        `interrupted (${String(signal.reason ?? 'signal')}) before anything of ${this.keyDate} was published; re-run it`,
      );
  }

  done(): void {
    this.at(this.stage);
    this.summary.seconds = (performance.now() - this.started) / 1000;
  }

  async fail(error: unknown): Promise<void> {
    failSummary(this.summary, this.stage, error);
    this.done();
    // Staging nobody refers to is this run's alone; what a journal or shard manifest names stays.
    if (!this.stagingInUse) await clearPrefix(this.dest, lakeKeys.staging(this.keyDate, this.runId)).catch(() => undefined);
  }

  // ── list ─────────────────────────────────────────────────────────────────────────────────────
  list(): Listing {
    const { source, layout, concurrency } = this.settings;
    this.at('list');
    // Fetching starts with the first listed page, unless the whole listing decides whether to run.
    const streaming = !this.settings.skipUnchanged;
    const feed = new ObjectFeed();
    const stop = new AbortController();
    const listed = listKeyDate(source.storage, source.prefix, this.keyDate, layout, {
      parallel: concurrency,
      // Beside a running fetch the listing only has to stay ahead of the GETs.
      ...(streaming ? { rangeParallel: Math.min(2, concurrency) } : {}),
      feed,
      signal: stop.signal,
    });
    // Failures also reach the feed, which the fetch loop reads; the promise is awaited when fetching is done.
    listed.catch(() => undefined);
    listed.then(
      (l) => {
        failpoint('listed');
        this.summary.listed = { objects: l.objects.length, bytes: l.objects.reduce((sum, o) => sum + o.size, 0) };
        this.settings.onProgress?.({ type: 'listed', keyDate: this.keyDate, ...this.summary.listed });
      },
      () => undefined,
    );
    return { feed, listed, stop };
  }

  async plan(): Promise<void> {
    const { source, layout, concurrency } = this.settings;
    const listing = await listKeyDate(source.storage, source.prefix, this.keyDate, layout, { parallel: concurrency });
    this.summary.listed = { objects: listing.objects.length, bytes: listing.objects.reduce((sum, o) => sum + o.size, 0) };
    const state = await readManifest(this.dest, this.keyDate);
    const diff = compareWithLake(state?.manifest, listing.objects, { keyDate: this.keyDate, scope: this.scope });
    this.summary.gone = { objects: diff.gone.objects, rows: diff.gone.rows, removed: Boolean(this.settings.deleteVanished) };
    this.summary.plan = { layouts: listing.layouts, newOrChanged: diff.fresh, held: diff.held };
    this.summary.status = 'planned';
  }

  // ── recover ──────────────────────────────────────────────────────────────────────────────────
  /**
   * A publish a crash interrupted is finished by the next run of the key date, whatever it is; a live
   * holder of the publish lock finishes its own (nothing to do here then).
   */
  async recoverIfPending(): Promise<void> {
    if ((await this.dest.list(lakeKeys.journalPrefix(this.keyDate))).objects.length === 0) return;
    this.at('commit');
    let lock: LeaseLock;
    try {
      lock = await LeaseLock.acquire(this.dest, lakeKeys.publishLock(this.keyDate), { runId: this.runId, purpose: 'recovery' });
    } catch (error) {
      if (error instanceof LockedError) return;
      throw error;
    }
    try {
      await recoverPublishes(this.dest, this.keyDate, lock, this.settings.concurrency);
      const state = await readManifest(this.dest, this.keyDate);
      this.at('register');
      if (state) await this.registerIfBehind(state.manifest);
    } finally {
      await lock.release();
    }
  }

  // ── skip if unchanged ────────────────────────────────────────────────────────────────────────
  /** Jobs: nothing to do when the lake already holds every listed object as it is now. */
  async skipIfUnchanged(listing: Listing): Promise<boolean> {
    if (!this.settings.skipUnchanged) return false;
    const { objects } = await listing.listed;
    const state = await readManifest(this.dest, this.keyDate);
    const diff = compareWithLake(state?.manifest, objects, { keyDate: this.keyDate, scope: this.scope });
    this.summary.gone = { objects: diff.gone.objects, rows: diff.gone.rows, removed: false };
    if (
      diff.fresh > 0 ||
      (diff.gone.objects > 0 && this.settings.deleteVanished) ||
      (state && state.manifest.schemaVersion !== SCHEMA_VERSION && diff.held > 0)
    )
      return false;
    // Another --redact than the key date's: its rows are written again under this one.
    if (state && diff.held > 0 && !sameRedact(state.manifest.redact, this.settings.redact)) return false;
    this.summary.status = objects.length === 0 && diff.gone.objects === 0 ? 'empty' : 'unchanged';
    if (state && diff.held > 0) {
      this.at('register');
      await this.registerIfBehind(state.manifest);
      this.at('tag');
      await this.tag(objects.map((o) => o.key));
    }
    return true;
  }

  // ── lock ─────────────────────────────────────────────────────────────────────────────────────
  /** The publish lock for a whole key date; a shard's own lock for a shard (it publishes later). */
  async lock(): Promise<LeaseLock> {
    this.at('lock');
    const { shard } = this.settings;
    const key = shard ? lakeKeys.shardLock(this.keyDate, shardTag(shard)) : lakeKeys.publishLock(this.keyDate);
    const signal = this.settings.signal;
    return LeaseLock.acquire(
      this.dest,
      key,
      { runId: this.runId, purpose: shard ? shardLabel(shard) : 'convert' },
      { waitMs: this.settings.lockWaitMs ?? 0, ...(signal ? { signal } : {}) },
    );
  }

  // ── stream: fetch → parse → build → write (staged) ───────────────────────────────────────────
  /** Converts the listed objects (a shard: its own) into staged files; undefined when there is nothing to do. */
  async stream(listing: Listing): Promise<StagedPart | undefined> {
    const { source, dest, shard } = this.settings;
    this.at('list');
    await listing.feed.ready();
    if (listing.feed.objects.length === 0 && !(await this.nothingListed())) return undefined;
    this.interrupted();
    const feed = shard ? ObjectFeed.filtered(listing.feed, (o) => shardOf(objectName(o.key), shard.count) === shard.index) : listing.feed;
    const staging = lakeKeys.staging(this.keyDate, this.runId);
    const redactor = this.settings.redact?.length ? new Redactor(this.settings.redact) : undefined;
    const rejects = new RejectWriter(dest, this.keyDate, staging, undefined, redactor);
    const files: StagedFileRecord[] = [];
    const objects: ObjectRecord[] = [];
    const names = new Set<string>();
    /** Reject reasons of objects that had rejects, by object index (what the reject guard reports). */
    const reasons = new Map<number, Map<string, number>>();
    const sink = async (file: EncodedPartitionFile) => {
      // Staged names must not end in .parquet: `<dest>/**/*.parquet` has to see table files only.
      const stagingKey = `${staging}${file.key}.staged`;
      await dest.put(stagingKey, file.bytes, { contentType: 'application/vnd.apache.parquet' });
      files.push({
        key: file.key,
        stagingKey,
        bucket: file.partition.bucket,
        dt: file.partition.dt,
        rows: file.rows,
        bytes: file.bytes.length,
        runs: file.runs,
      });
      failpoint('staged');
    };
    const workers = this.settings.workers ?? 0;
    const encoder = deferredEncoder(() => {
      // Before any parquet-wasm of this run is compiled (here or in a new worker).
      this.summary.wasmTier = useWasmTier(wasmTierFor(knownBytes(feed)));
      const threads = workersAvailable() ? encodeThreads(workers, feed, this.settings.inThreadBelowBytes) : 0;
      this.summary.encodeWorkers = threads;
      return threads > 0 ? workerEncoder(threads, this.writeOptions) : inThreadEncoder(this.writeOptions);
    });
    const writer = new PartitionWriter(
      sink,
      {
        ...this.writeOptions,
        keyDate: this.keyDate,
        filePrefix: 'part-',
        memoryBudget: this.settings.memoryBudget,
        maxFileRows: this.settings.maxFileRows,
        maxFileBytes: this.settings.maxFileBytes ?? DEFAULT_FILE_BYTES,
        ...(redactor ? { redactor } : {}),
      },
      encoder,
      // One file queued behind each worker's keeps it busy; more would only hold more memory.
      Math.max(1, workers + 1),
    );
    const spans = new LineSpans();
    const s = this.summary;
    try {
      this.at('fetch');
      for await (const { info, body } of fetchInOrder(source.storage, feed, this.settings.concurrency)) {
        this.interrupted();
        this.at('parse');
        const uri = source.storage.uri + info.key;
        const name = objectName(info.key);
        if (names.has(name))
          throw new KeyDateError(
            `two raw objects of ${this.keyDate} are named ${name} (${uri} and another); s3logs tells raw objects apart by name, so they cannot both be converted`,
            this.keyDate,
            'list',
          );
        names.add(name);
        const index = objects.length;
        const input = await this.decompress(uri, body);
        writer.beginObject(index);
        rejects.beginObject(index);
        const counts = parseLogObject(
          input,
          objectSink(writer, (line, reason, detail, raw) => {
            rejects.add(uri, line, reason, detail, raw);
            let tally = reasons.get(index);
            if (!tally) reasons.set(index, (tally = new Map()));
            tally.set(reason, (tally.get(reason) ?? 0) + 1);
          }),
          spans,
        );
        failpoint('parsed');
        objects.push({
          name,
          uri,
          etag: info.etag,
          size: info.size,
          lines: counts.lines,
          rows: counts.rows,
          rejects: counts.rejects,
          repairedUtf8: counts.repairedUtf8,
        });
        s.objects++;
        s.bytesIn += body.length;
        s.bytesParsed += input.length;
        s.lines += counts.lines;
        s.rows += counts.rows;
        s.rejects += counts.rejects;
        s.repairedUtf8 += counts.repairedUtf8;
        this.at('write');
        await writer.flushFull();
        if (rejects.shouldSpill()) await rejects.spill();
        this.settings.onProgress?.({
          type: 'object',
          keyDate: this.keyDate,
          done: objects.length,
          total: feed.objects.length,
          listing: !feed.done,
          bytes: s.bytesIn,
          rows: s.rows,
          objectKey: uri,
          object: counts,
        });
        this.at('fetch');
      }
      this.interrupted();
      this.at('write');
      await writer.flushAll();
      // Every object was fetched, so the listing is complete; this only surfaces its own result.
      await listing.listed;
    } catch (error) {
      // A listing that failed half-way surfaces in the fetch loop; report it where it happened.
      if (error === listing.feed.error) this.at('list');
      throw error;
    } finally {
      await encoder.close();
    }
    await rejects.spill();
    this.rejectReasons = reasons;
    return finalNames({
      keyDate: this.keyDate,
      runId: this.runId,
      ...(shard ? { shard } : {}),
      scope: this.scope,
      deleteVanished: this.settings.deleteVanished ?? false,
      objects,
      files,
      rejectFiles: rejects.staged,
      ...(redactor ? { redact: redactor.modes } : {}),
    });
  }

  /**
   * gzip and zstd objects (archived or copied logs), known by their magic bytes, are parsed as what they
   * hold. A corrupt or truncated one fails the key date: its rows cannot be trusted, and a re-run
   * retries it (often it was still being copied).
   */
  private async decompress(uri: string, body: Uint8Array): Promise<Uint8Array> {
    try {
      const { bytes, compression } = await decompressObject(body);
      if (compression) this.summary.compressedObjects[compression]++;
      return bytes;
    } catch (error) {
      if (!(error instanceof DecompressError)) throw error;
      throw new KeyDateError(
        `${uri}: ${error.message}; nothing of ${this.keyDate} was published (fix or remove the object, then re-run)`,
        this.keyDate,
        'parse',
        { cause: error },
      );
    }
  }

  /** An empty listing: only a removal of vanished objects (asked for) is left to do. */
  private async nothingListed(): Promise<boolean> {
    const state = await readManifest(this.dest, this.keyDate);
    const diff = compareWithLake(state?.manifest, [], { keyDate: this.keyDate, scope: this.scope });
    this.summary.gone = { objects: diff.gone.objects, rows: diff.gone.rows, removed: false };
    if (diff.gone.objects > 0 && this.settings.deleteVanished && !this.settings.shard) return true;
    // Raw logs may have expired: an empty source never retires earlier output on its own.
    this.summary.status = diff.gone.objects > 0 ? 'unchanged' : 'empty';
    return false;
  }

  // ── reconcile ────────────────────────────────────────────────────────────────────────────────
  /** Counts must add up before anything is staged for publishing: lines = rows + rejects, per object and file. */
  reconcile(part: StagedPart): void {
    const s = this.summary;
    if (s.lines !== s.rows + s.rejects) {
      throw new KeyDateError(
        `line count does not reconcile: ${s.lines} lines, ${s.rows} rows, ${s.rejects} rejects`,
        this.keyDate,
        'parse',
      );
    }
    const rows = new Map<number, number>();
    for (const f of part.files)
      for (let i = 0; i < f.runs.length; i += 2) rows.set(f.runs[i]!, (rows.get(f.runs[i]!) ?? 0) + f.runs[i + 1]!);
    part.objects.forEach((o, i) => {
      if ((rows.get(i) ?? 0) !== o.rows)
        throw new KeyDateError(`wrote ${rows.get(i) ?? 0} rows of ${o.uri} to Parquet but parsed ${o.rows}`, this.keyDate, 'write');
    });
    this.guardRejects(part);
    this.interrupted();
  }

  /** A key date that is mostly garbage (a wrong file, a compressed or binary object) fails loudly instead of publishing. */
  private guardRejects(part: StagedPart): void {
    const limit = this.settings.maxRejectRatio ?? 1;
    const { lines, rejects } = this.summary;
    // A handful of bad lines in a small key date is noise, not a wrong file: the guard needs both.
    if (limit >= 1 || rejects <= GUARD_MIN_REJECTS || rejects / lines <= limit) return;
    const worst = part.objects
      .map((o, i) => ({ o, i }))
      .filter(({ o }) => o.rejects > 0)
      .sort((a, b) => b.o.rejects - a.o.rejects)
      .slice(0, 3)
      .map(({ o, i }) => {
        const top = [...(this.rejectReasons.get(i) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]).slice(0, 3);
        return `${o.uri} (${o.rejects} of ${o.lines} lines: ${top.map(([reason, n]) => `${reason} ×${n}`).join(', ')})`;
      });
    const percent = (n: number) => `${(n * 100).toFixed(n < 0.1 ? 2 : 1)}%`;
    throw new KeyDateError(
      `${grouped(rejects)} of ${grouped(lines)} lines (${percent(rejects / lines)}) are not access log records, above --max-reject-ratio ${limit} (${percent(limit)}); ` +
        `worst: ${worst.join('; ')}. Check that --source holds S3 server access logs, or raise --max-reject-ratio (1 turns the check off)`,
      this.keyDate,
      'parse',
    );
  }

  // ── stage (a shard) or publish ───────────────────────────────────────────────────────────────
  async stageOrPublish(part: StagedPart, lock: LeaseLock): Promise<void> {
    this.at('commit');
    const { shard } = this.settings;
    if (!shard) {
      // A whole key date supersedes shards staged for it: they read the same objects.
      await this.publishAndRegister(lock, [part], await listShardManifests(this.dest, this.keyDate));
      return;
    }
    await lock.verify();
    this.stagingInUse = true;
    await writeShardManifest(this.dest, { ...part, shard });
    failpoint('shard-staged');
    await lock.release();
    try {
      await this.commitRound(shard.count);
    } catch (error) {
      if (error instanceof LockedError) {
        this.summary.note = `${shardLabel(shard)} is staged and the round is complete; \`s3logs commit --shards ${shard.count}\` (or a re-run of any shard) publishes it once the lock is free`;
      }
      throw error;
    }
  }

  /** Publishes the round of `count` shards when every one has staged; otherwise says which are missing. */
  async commitRound(count: number): Promise<void> {
    this.at('commit');
    const round = await readShardRound(this.dest, this.keyDate, count);
    // Some shards still to come: nothing to lock. None there: maybe published, maybe half way (locked below).
    if (round.missing.length > 0 && round.missing.length < count) return this.notCommitted(round.missing, count);
    const lock = await LeaseLock.acquire(
      this.dest,
      lakeKeys.publishLock(this.keyDate),
      { runId: this.runId, purpose: `commit of ${count} shards` },
      {
        waitMs: this.settings.lockWaitMs ?? LOCK_WAIT_MS,
        ...(this.settings.signal ? { signal: this.settings.signal } : {}),
      },
    );
    try {
      // A commit that died half-way is finished first; then the round is read again under the lock
      // (another shard may have committed it meanwhile).
      await recoverPublishes(this.dest, this.keyDate, lock, this.settings.concurrency);
      const now = await readShardRound(this.dest, this.keyDate, count);
      if (now.missing.length > 0) return this.notCommitted(now.missing, count);
      // `s3logs commit` reports what the round read; a last shard reports its own part.
      if (!this.settings.shard) Object.assign(this.summary, countsOf(now.present.flatMap((p) => p.objects)));
      await this.publishAndRegister(
        lock,
        now.present,
        now.present.map((m) => ({ key: lakeKeys.shardManifest(this.keyDate, shardTag(m.shard)), runId: m.runId })),
      );
    } finally {
      await lock.release();
    }
  }

  /** Some shards have not staged — or none has, because the round was published already. */
  private async notCommitted(missing: number[], count: number): Promise<void> {
    const state = missing.length === count ? await readManifest(this.dest, this.keyDate) : undefined;
    if (state) {
      // The round was consumed (or superseded by a whole-key-date run that read the same objects).
      const by = `run ${state.manifest.runId} (${state.manifest.publishedBy}) at ${state.manifest.createdAt}`;
      this.summary.status = this.settings.shard ? 'converted' : 'unchanged';
      this.summary.published = Boolean(this.settings.shard);
      this.summary.note = this.settings.shard
        ? `published with the other shards by ${by}`
        : `nothing to commit: the key date was published by ${by}`;
      // That publish may have died before registering (and was just finished here).
      this.at('register');
      await this.registerIfBehind(state.manifest);
      return;
    }
    this.summary.status = 'staged';
    this.summary.waitingFor = missing;
  }

  private async publishAndRegister(
    lock: LeaseLock,
    parts: readonly StagedPart[],
    shardManifests: ReadonlyArray<{ key: string; runId: string }>,
  ): Promise<void> {
    const outcome = await publish(this.dest, lock, {
      keyDate: this.keyDate,
      runId: this.runId,
      publishedBy: this.settings.shard || parts.some((p) => p.shard) ? 'commit' : 'convert',
      parts,
      shardManifests,
      writeOptions: this.writeOptions,
      concurrency: this.settings.concurrency,
      // Splitting a compacted file takes the other key dates' locks: --lock-wait-seconds bounds that too.
      ...(this.settings.lockWaitMs !== undefined ? { groupLockWaitMs: this.settings.lockWaitMs } : {}),
      onJournal: () => {
        this.stagingInUse = true;
        this.summary.published = true;
      },
    });
    this.settings.onProgress?.({ type: 'committed', keyDate: this.keyDate });
    const s = this.summary;
    s.filesWritten = outcome.filesWritten;
    s.bytesOut = outcome.bytesOut;
    s.partitions = outcome.partitions;
    s.rejectFiles = [...outcome.rejectFiles];
    s.staleFilesDeleted = outcome.staleFilesDeleted;
    s.carriedFiles = outcome.carriedFiles;
    s.gone = outcome.gone;
    s.publishWindowSeconds = outcome.windowSeconds;
    s.status = 'converted';
    await this.register(outcome);
    this.at('tag');
    await this.tag(
      parts
        .flatMap((p) => p.objects.map((o) => o.uri))
        .filter((uri) => uri.startsWith(this.settings.source.storage.uri))
        .map((uri) => uri.slice(this.settings.source.storage.uri.length)),
    );
  }

  // ── register ─────────────────────────────────────────────────────────────────────────────────
  private async register(outcome: PublishOutcome): Promise<void> {
    this.at('register');
    failpoint('before-register');
    this.summary.catalogBehind = true;
    this.summary.catalog = await this.registerManifest(outcome.manifest, outcome.previous);
    this.summary.catalogBehind = false;
  }

  private async registerManifest(manifest: KeyDateManifest, previous: KeyDateManifest | undefined): Promise<KeyDateSummary['catalog']> {
    const { catalog, dest } = this.settings;
    if (catalog.kind === 'none') return { created: 0, updated: 0, unchanged: 0, removed: 0 };
    await catalog.ensureTable({ ...tableDefinition(dest.uri, this.settings.database, this.settings.table), redact: manifest.redact ?? [] });
    const result = await registerKeyDate(catalog, dest, this.keyDate, manifest.files, previous?.files ?? []);
    const marker: RegisteredMarker = { runId: manifest.runId, catalog: catalog.kind, registeredAt: new Date().toISOString() };
    await writeRecord(dest, lakeKeys.registered(this.keyDate), marker);
    return result;
  }

  /** A skipped key date whose last publish died before registering (or was registered elsewhere) is registered now. */
  private async registerIfBehind(manifest: KeyDateManifest): Promise<void> {
    if (this.settings.catalog.kind === 'none') return;
    const marker = await readRecord<RegisteredMarker>(this.dest, lakeKeys.registered(this.keyDate)).catch(() => undefined);
    if (marker?.runId === manifest.runId && marker.catalog === this.settings.catalog.kind) return;
    this.summary.catalogBehind = true;
    this.summary.catalog = await this.registerManifest(manifest, undefined);
    this.summary.catalogBehind = false;
  }

  // ── tag ──────────────────────────────────────────────────────────────────────────────────────
  private async tag(keys: string[]): Promise<void> {
    if (!this.settings.tagObjects || keys.length === 0) return;
    await this.settings.tagObjects(keys);
  }
}

/**
 * How a listing compares with what the lake holds for its scope: objects new or changed (other ETag or
 * size), objects the lake holds as listed, and objects of the scope the source no longer lists.
 */
function compareWithLake(
  manifest: KeyDateManifest | undefined,
  listed: readonly ObjectInfo[],
  scope: { keyDate: string; scope: ListingScope },
): { fresh: number; held: number; gone: { objects: number; rows: number } } {
  const held = new Map((manifest?.objects ?? []).map((o) => [o.name, o]));
  let fresh = 0;
  let same = 0;
  const seen = new Set<string>();
  for (const o of listed) {
    const name = objectName(o.key);
    seen.add(name);
    const record = held.get(name);
    if (record && record.etag === o.etag && record.size === o.size) same++;
    else fresh++;
  }
  let goneObjects = 0;
  let goneRows = 0;
  for (const o of manifest?.objects ?? []) {
    if (!seen.has(o.name) && inScope(scope, o.uri)) {
      goneObjects++;
      goneRows += o.rows;
    }
  }
  return { fresh, held: same, gone: { objects: goneObjects, rows: goneRows } };
}

/**
 * Final file names, once every object the run read is known: `part-<keyDate>-<tag>-NNNNN.parquet`,
 * the tag a hash of the objects read (name, ETag, size). The same inputs give the same names — a re-run
 * after a crash equals an uninterrupted run — and different inputs never overwrite files that hold
 * other objects' rows.
 */
function finalNames(part: StagedPart): StagedPart {
  const hash = createHash('sha256');
  for (const o of [...part.objects].sort((a, b) => compareKeys(a.name, b.name))) hash.update(`${o.name}\0${o.etag}\0${o.size}\n`);
  const tag = hash.digest('hex').slice(0, 8);
  const rename = (key: string, from: RegExp, to: string) => {
    const renamed = key.replace(from, to);
    if (renamed === key) throw new Error(`unexpected staged name ${key}`);
    return renamed;
  };
  return {
    ...part,
    files: part.files.map((f) => ({ ...f, key: rename(f.key, /\/part-(\d+)\.parquet$/, `/part-${part.keyDate}-${tag}-$1.parquet`) })),
    rejectFiles: part.rejectFiles.map((r) => ({ ...r, key: rename(r.key, /\/rejects-(\d+)\.jsonl$/, `/rejects-${tag}-$1.jsonl`) })),
  };
}

/** Encode worker threads for a run, decided when its first file is ready (see ConvertSettings.inThreadBelowBytes). */
export function encodeThreads(workers: number, feed: ObjectFeed, inThreadBelowBytes: number | undefined): number {
  if (workers <= 0) return 0;
  const bytes = knownBytes(feed);
  if (inThreadBelowBytes === undefined || bytes === undefined) return workers;
  return bytes < inThreadBelowBytes ? 0 : workers;
}

/** Bytes of the run's raw objects once the listing is complete; undefined while it is still going. */
function knownBytes(feed: ObjectFeed): number | undefined {
  if (!feed.done) return undefined;
  let bytes = 0;
  for (const object of feed.objects) bytes += object.size;
  return bytes;
}
