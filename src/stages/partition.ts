/**
 * Routes parsed rows to their partition (bucket_name, UTC date of requestdatetime) and turns full
 * partition buffers into Parquet files handed to a sink (staging, on the main thread or through a
 * worker's message port). Memory is bounded by `memoryBudget` over all open partitions (the largest is
 * flushed first), never by the size of the day.
 */
import { partitionPath, type PartitionValues } from '../catalog/Catalog.js';
import { lakeKeys, rejectLine, type StagedRejectFileRecord } from '../records.js';
import type { Storage } from '../storage/Storage.js';
import { RowBatch } from './build.js';
import { BufferPool } from './columns.js';
import { slotOf, type LineSpans, type ParseSink, type RejectReason } from './parse.js';
import { formatDay, utcDay } from './time.js';
import { inThreadEncoder, type Encoder } from './encoder.js';
import type { Redactor } from './redact.js';
import type { WriteOptions } from './writeOptions.js';

export { DEFAULT_FILE_BYTES } from './writeOptions.js';

/** A written Parquet file, not yet staged. */
export interface EncodedPartitionFile {
  /** Final key, `bucket=<b>/dt=<d>/<filePrefix><nnnnn>.parquet`. */
  readonly key: string;
  readonly partition: PartitionValues;
  readonly rows: number;
  readonly bytes: Uint8Array;
  /** Rows per raw object in file order (see records.ts `Runs`). */
  readonly runs: number[];
}

export type FileSink = (file: EncodedPartitionFile) => Promise<void>;

export interface PartitionWriterOptions extends WriteOptions {
  keyDate: string;
  /** Start of every file name (numbered per partition; the run gives final names when it is done). */
  filePrefix: string;
  /** Column bytes held over all partitions before the largest is written out. */
  memoryBudget: number;
  /** A partition buffer is written as a file once it holds this many rows. */
  maxFileRows: number;
  /**
   * ... or this many bytes of column data: bounds the memory one file takes to encode (parquet-wasm
   * holds several copies), and keeps files flowing to the encoders while parsing goes on.
   */
  maxFileBytes: number;
  /** --redact: applied to each batch once it is full, before it is encoded; absent (off) costs nothing. */
  redactor?: Redactor;
}

class PartitionBuffer {
  batch: RowBatch;
  /** Rows per object of the batch: [object, rows, object, rows, …]. */
  runs: number[] = [];
  files = 0;
  constructor(
    readonly values: PartitionValues,
    readonly bucketBytes: Uint8Array,
    readonly day: number,
    readonly pool: BufferPool,
  ) {
    this.batch = new RowBatch(undefined, pool);
  }
}

/** The field a row's partition takes its bucket from. */
const SLOT_BUCKET = slotOf('bucket_name');

export class PartitionWriter {
  private readonly partitions = new Map<string, PartitionBuffer>();
  /** Column buffers of encoded files, reused for the next ones (at most the memory budget's worth). */
  private readonly pool: BufferPool;
  private last: PartitionBuffer | undefined;

  /** Files being encoded (on workers) and then handed to the sink. */
  private readonly inFlight: Array<Promise<void>> = [];

  constructor(
    private readonly sink: FileSink,
    private readonly options: PartitionWriterOptions,
    private readonly encoder: Encoder = inThreadEncoder(options),
    /** Files encoded at once; more overlap parsing with encoding, each holds one file's memory. */
    private readonly maxInFlight = 1,
  ) {
    this.pool = new BufferPool(options.memoryBudget);
  }

  /** Rows appended since buffer sizes were last added up. */
  private rowsSinceScan = 0;
  /** Index of the raw object whose rows are being appended (runs in the files record it). */
  private object = 0;

  /** Rows appended from now on come from this object (indices in the order objects are read). */
  beginObject(index: number): void {
    this.object = index;
    // Batches cache a view of the object their last row came from; the previous object can go now.
    for (const p of this.partitions.values()) p.batch.forgetSource();
  }

  appendRow(buf: Uint8Array, spans: LineSpans): void {
    const target = this.route(buf, spans);
    target.batch.appendRow(buf, spans);
    const runs = target.runs;
    if (runs.length > 0 && runs[runs.length - 2] === this.object) runs[runs.length - 1]!++;
    else runs.push(this.object, 1);
    this.rowsSinceScan++;
  }

  /**
   * Adding up buffer sizes walks every column of every open partition; after each of 10,000 small S3
   * objects that was 0.6 s of an 18 s run (bench:s3). The sizes are added up once enough rows
   * arrived to matter (a sixteenth of the memory budget at 1 KiB a row, at most 4,096 rows): budget
   * and file size may be passed by that much. The row limit is checked every time: it is cheap and --file-rows is a promise.
   */
  private scanEveryRows(): number {
    return Math.max(1, Math.min(4096, Math.floor(this.options.memoryBudget / 16 / 1024)));
  }

  /** Called between objects: writes out buffers at the file size, then the largest until under budget. */
  async flushFull(): Promise<void> {
    const scan = this.rowsSinceScan >= this.scanEveryRows();
    for (const p of this.partitions.values()) {
      if (p.batch.length >= this.options.maxFileRows || (scan && p.batch.byteSize() >= this.options.maxFileBytes))
        await this.writeFile(p, true);
    }
    if (!scan) return;
    this.rowsSinceScan = 0;
    for (;;) {
      let largest: PartitionBuffer | undefined;
      let largestSize = 0;
      let held = 0;
      for (const p of this.partitions.values()) {
        // Allocated, not used: growth slack is memory too.
        const size = p.batch.allocated();
        held += size;
        if (size > largestSize) {
          largest = p;
          largestSize = size;
        }
      }
      if (held <= this.options.memoryBudget || !largest || largest.batch.length === 0) return;
      await this.writeFile(largest);
    }
  }

  /** Writes out everything left and waits for every file to reach the sink. */
  async flushAll(): Promise<void> {
    for (const p of [...this.partitions.values()].sort(comparePartitions)) {
      if (p.batch.length > 0) await this.writeFile(p);
    }
    await Promise.all(this.inFlight.splice(0));
  }

  private route(buf: Uint8Array, spans: LineSpans): PartitionBuffer {
    const day = utcDay(spans.timeMs);
    const s = spans.start[SLOT_BUCKET]!;
    const e = spans.end[SLOT_BUCKET]!;
    const last = this.last;
    // Lines of one object share a bucket and mostly a day: compare bytes before building a map key.
    if (last && last.day === day && last.bucketBytes.length === e - s) {
      let same = true;
      for (let i = 0; i < e - s; i++) {
        if (last.bucketBytes[i] !== buf[s + i]) {
          same = false;
          break;
        }
      }
      if (same) return last;
    }
    const bucketBytes = Uint8Array.prototype.slice.call(buf, s, e);
    const bucket = Buffer.from(bucketBytes).toString('utf8');
    const mapKey = `${bucket}\u0000${day}`;
    let target = this.partitions.get(mapKey);
    if (!target) {
      target = new PartitionBuffer({ bucket, dt: formatDay(day) }, bucketBytes, day, this.pool);
      this.partitions.set(mapKey, target);
    }
    this.last = target;
    return target;
  }

  /** @param busy the partition filled a whole file and will likely fill another: reuse its buffer sizes. */
  private async writeFile(p: PartitionBuffer, busy = false): Promise<void> {
    const batch = p.batch;
    // The one place rows can be redacted: the batch is complete and not yet handed to an encoder.
    this.options.redactor?.redactColumns(batch.columns);
    const runs = p.runs;
    p.batch = busy ? batch.emptyLike() : new RowBatch(undefined, this.pool);
    p.runs = [];
    // The name is fixed here, on the parsing side, so which worker encodes the file changes nothing.
    const name = `${this.options.filePrefix}${String(p.files++).padStart(5, '0')}.parquet`;
    const key = partitionPath(p.values) + name;
    const done = this.encoder
      .encode(batch)
      .then((encoded) => this.sink({ key, partition: p.values, rows: encoded.rows, bytes: encoded.bytes, runs }));
    // Failures surface when the file is awaited below or in flushAll().
    done.catch(() => undefined);
    this.inFlight.push(done);
    while (this.inFlight.length > this.maxInFlight) await this.inFlight.shift();
  }
}

function comparePartitions(a: PartitionBuffer, b: PartitionBuffer): number {
  return a.values.bucket < b.values.bucket ? -1 : a.values.bucket > b.values.bucket ? 1 : a.day - b.day;
}

/** Reject records as JSON Lines, spilled to staged part files so a garbage object cannot exhaust memory. */
export class RejectWriter {
  private chunks: string[] = [];
  private size = 0;
  private parts = 0;
  private runs: number[] = [];
  private object = 0;
  readonly staged: StagedRejectFileRecord[] = [];

  constructor(
    private readonly dest: Storage,
    private readonly keyDate: string,
    private readonly stagingPrefix: string,
    private readonly spillBytes = 16 * 1024 * 1024,
    /** --redact presigned also applies to the raw text of rejected lines. */
    private readonly redactor?: Redactor,
  ) {}

  /** Rejects added from now on come from this object. */
  beginObject(index: number): void {
    this.object = index;
  }

  add(sourceKey: string, line: number, reason: RejectReason, detail: string, raw: Uint8Array): void {
    if (this.redactor) ({ raw, detail } = this.redactor.redactReject(raw, detail));
    this.addLines(rejectLine(this.keyDate, sourceKey, line, reason, detail, raw), 1);
  }

  /** JSON lines made elsewhere, in object order, all of the current object. */
  addLines(text: string, count: number): void {
    if (count === 0) return;
    this.chunks.push(text);
    this.size += text.length;
    const runs = this.runs;
    if (runs.length > 0 && runs[runs.length - 2] === this.object) runs[runs.length - 1]! += count;
    else runs.push(this.object, count);
  }

  shouldSpill(): boolean {
    return this.size >= this.spillBytes;
  }

  async spill(): Promise<void> {
    if (this.chunks.length === 0) return;
    // Numbered only: the run names its files once it knows every object it read (finalNames in pipeline).
    const key = lakeKeys.rejectFile(this.keyDate, `rejects-${String(this.parts++).padStart(5, '0')}.jsonl`);
    const stagingKey = `${this.stagingPrefix}${key}.staged`;
    await this.dest.put(stagingKey, Buffer.from(this.chunks.join('')), { contentType: 'application/x-ndjson' });
    let rejects = 0;
    for (let i = 1; i < this.runs.length; i += 2) rejects += this.runs[i]!;
    this.staged.push({ key, stagingKey, rejects, runs: this.runs });
    this.chunks = [];
    this.size = 0;
    this.runs = [];
  }
}

/** Parse sink that feeds one object's rows and rejects into the writers. */
export function objectSink(
  writer: PartitionWriter,
  onReject: (line: number, reason: RejectReason, detail: string, raw: Uint8Array) => void,
): ParseSink {
  return { row: (buf, spans) => writer.appendRow(buf, spans), reject: onReject };
}
