/**
 * rewrite: a written file minus some of its source objects' rows.
 *
 * Rows in a lake file are in runs by raw log object; when some objects' rows must go (re-read, their
 * new rows live elsewhere) while siblings' rows must stay (their objects may have expired at the
 * source, so they cannot be re-read), the file is rewritten with the kept row ranges only, and the
 * reject files are filtered the same way by source object.
 *
 * Parquet: parquet-wasm decodes the row groups holding kept rows, one at a time, into Arrow IPC;
 * apache-arrow reads that, the kept rows are copied into contiguous column buffers, and the result goes
 * through the same IPC hand-off and writer properties as a new file (write.ts), under the current
 * ARROW_SCHEMA: a rewritten file has the schema, key-value metadata, codec and row-group size of a
 * freshly written one.
 *
 * parquet-wasm and ./write.js are imported on first use, so importing this module does not compile
 * the 5 MB of WebAssembly on the main thread (writeOptions.ts).
 *
 * What was measured and why it is built this way (parquet-wasm 0.8.0, apache-arrow 21.2.0):
 * - The writer (arrow-rs ArrowWriter) fills row groups across record batches and cuts them at exactly
 *   `rowGroupRows` rows: many small batches do not make small row groups.
 * - apache-arrow's Table.slice + concat would be zero-copy, but slices keep the whole validity bitmap
 *   (and Bool values) with an offset, and tableToIPC writes such a bitmap from the slice's first byte
 *   to the end of the original buffer (util/bit truncateBitmap): every slice carried ~all of every
 *   bitmap. 1,000 ranges of a 117k-row file took 900 MB of wasm memory, 5,000 ranges 2.8 GB and
 *   12-50 s. Hence the copy into one contiguous batch per row group (gatherColumn).
 * - ParquetFile.read/stream unwrap errors inside an async task: a corrupt data page panicked the wasm
 *   module and killed the Node process (uncaught "RuntimeError: unreachable"). Data is therefore read
 *   with the synchronous readParquet, whose errors are thrown. ParquetFile is used for the footer only
 *   (corrupt footers are rejected cleanly), because readParquet asked for a row group that does not
 *   exist panics too. ParquetFile.read also drops the Arrow schema metadata.
 * - readParquet of a whole 200k-row file then Table.intoIPCStream holds the decoded table and its IPC
 *   copy at once: 705 MB of wasm memory, against 384 MB to encode the same file. Per row group and
 *   per record batch (the IPC copy is one batch at a time): 304 MB with one 200k-row group, 238 MB
 *   with 100k-row groups. readParquet copies the whole file into wasm per call (freed after).
 * - 200k rows (33 MB zstd), 1,000 ranges keeping 120k rows: ~2.0-2.4 s warm (about one
 *   encodeParquet of the same file), roughly: decode 0.5 s, wasm->JS IPC 0.3 s, gather 0.2-0.3 s,
 *   JS->wasm IPC 0.15 s, write 1 s. 1 range or 5,000 ranges: the same within noise.
 */
import { Data, makeData, RecordBatch, Struct, Table, tableFromIPC, tableToIPC, Type, type DataType, type Schema } from 'apache-arrow';
import type { Table as WasmTable } from 'parquet-wasm';
import { SCHEMA_VERSION, SCHEMA_VERSION_KEY } from '../../schemas/accessLog.js';
import { RewriteError } from '../errors.js';
import { ARROW_SCHEMA } from '../schema/arrow.js';
import { footerRowCount } from './footer.js';
import { loadParquetWasm, type ParquetWasm } from './parquetWasm.js';
import type { EncodedFile, WriteOptions } from './writeOptions.js';

/** Defined in src/errors.ts with the other error classes; exported here too for existing importers. */
export { RewriteError };

/** Arrow's [offsets, values, validity] buffers, any of them absent (Data's Partial<Buffers> cannot say undefined). */
function buffers(
  offsets: Int32Array | undefined,
  values: Uint8Array | Int32Array | BigInt64Array,
  validity: Uint8Array | undefined,
): ConstructorParameters<typeof Data>[4] {
  return [offsets, values, validity] as unknown as ConstructorParameters<typeof Data>[4];
}

export type RowRange = readonly [start: number, end: number];

/** Rows per record batch read back from Parquet: bounds the wasm-side IPC copy. */
const READ_BATCH_ROWS = 16_384;

/**
 * Checks that `ranges` are half-open, non-empty, sorted, non-overlapping and within [0, rows), and
 * returns how many rows they cover. Adjacent ranges ([0,10), [10,20)) are allowed.
 */
export function keptRowCount(ranges: ReadonlyArray<RowRange>, rows: number): number {
  let kept = 0;
  let previousEnd = 0;
  for (let i = 0; i < ranges.length; i++) {
    const [start, end] = ranges[i]!;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) {
      throw new RewriteError(`row range ${i} [${start}, ${end}) is not a pair of integers`);
    }
    if (start < 0 || end > rows) {
      throw new RewriteError(`row range ${i} [${start}, ${end}) is out of bounds: the file has ${rows} rows`);
    }
    if (end <= start) throw new RewriteError(`row range ${i} [${start}, ${end}) is empty or reversed`);
    if (start < previousEnd) {
      throw new RewriteError(`row range ${i} [${start}, ${end}) is unsorted or overlaps the previous range, which ends at ${previousEnd}`);
    }
    kept += end - start;
    previousEnd = end;
  }
  if (kept === 0) throw new RewriteError('no rows to keep: a file with zero rows is not written; delete the file instead');
  return kept;
}

/**
 * A new Parquet file holding only the rows of `parquet` in `ranges` (half-open, sorted,
 * non-overlapping, row numbers in file order), in order, written exactly as encodeParquet writes
 * new files. Throws RewriteError on bad ranges, zero kept rows, a file whose schema is not the
 * current one, or a written row count that differs from the kept one.
 */
export async function keepRowRanges(parquet: Uint8Array, ranges: ReadonlyArray<RowRange>, options: WriteOptions): Promise<EncodedFile> {
  const rows = footerRowCount(parquet);
  const kept = keptRowCount(ranges, rows);
  const pw = loadParquetWasm();
  const { writerProperties } = await import('./write.js');

  const { groups, schemaVersion } = await footerFacts(pw, parquet);
  if (schemaVersion !== String(SCHEMA_VERSION)) {
    throw new RewriteError(
      `cannot rewrite a file with a different schema: s3logs.schema_version is ${schemaVersion ?? 'missing'}, expected ${SCHEMA_VERSION}`,
    );
  }
  const total = groups.reduce((a, b) => a + b, 0);
  if (total !== rows) throw new RewriteError(`Parquet row groups hold ${total} rows, the footer says ${rows}`);

  // Only the row groups holding kept rows are decoded, one at a time.
  const batches: RecordBatch[] = [];
  let groupStart = 0;
  let r = 0;
  for (let g = 0; g < groups.length && r < ranges.length; g++) {
    const groupEnd = groupStart + groups[g]!;
    // The parts of the ranges inside this group, relative to its first row.
    const local: Array<[number, number]> = [];
    let localKept = 0;
    while (r < ranges.length && ranges[r]![0] < groupEnd) {
      const [start, end] = ranges[r]!;
      const from = Math.max(start, groupStart) - groupStart;
      const to = Math.min(end, groupEnd) - groupStart;
      local.push([from, to]);
      localKept += to - from;
      if (end > groupEnd) break;
      r++;
    }
    if (local.length > 0) {
      const source = readRowGroup(pw, parquet, g);
      const read = source.reduce((n, b) => n + b.numRows, 0);
      if (read !== groups[g]) throw new RewriteError(`Parquet reader returned ${read} rows for row group ${g} of ${groups[g]}`);
      batches.push(keptRows(source, local, localKept));
    }
    groupStart = groupEnd;
  }
  const ipc = tableToIPC(new Table(ARROW_SCHEMA, batches), 'stream');

  const props = writerProperties(options);
  let wasmTable: WasmTable;
  try {
    wasmTable = pw.Table.fromIPCStream(ipc);
  } catch (error) {
    props.free();
    throw error;
  }
  // writeParquet consumes (frees) both the table and the properties, also when it throws.
  const bytes = pw.writeParquet(wasmTable, props);
  const written = footerRowCount(bytes);
  if (written !== kept) {
    throw new RewriteError(
      `Parquet writer wrote ${written} rows but was given ${kept} kept rows; the rewritten file must not be published`,
    );
  }
  return { bytes, rows: written };
}

/** Rows per row group and s3logs.schema_version, from the footer as parquet-wasm reads it. */
export async function footerFacts(pw: ParquetWasm, parquet: Uint8Array): Promise<{ groups: number[]; schemaVersion: string | undefined }> {
  const file = await pw.ParquetFile.fromFile(new Blob([parquet]));
  try {
    const meta = file.metadata();
    try {
      const groups: number[] = [];
      for (let i = 0; i < meta.numRowGroups(); i++) {
        const group = meta.rowGroup(i);
        try {
          groups.push(group.numRows());
        } finally {
          group.free();
        }
      }
      const fileMeta = meta.fileMetadata();
      try {
        const value: unknown = fileMeta.keyValueMetadata().get(SCHEMA_VERSION_KEY);
        return { groups, schemaVersion: typeof value === 'string' ? value : undefined };
      } finally {
        fileMeta.free();
      }
    } finally {
      meta.free();
    }
  } finally {
    file.free();
  }
}

/**
 * One row group as apache-arrow record batches of at most READ_BATCH_ROWS rows, checked against
 * ARROW_SCHEMA. Each wasm batch is handed over on its own (recordBatch(i) is a new handle that
 * intoIPCStream consumes, also when it throws); the wasm table is freed before returning.
 */
export function readRowGroup(pw: ParquetWasm, parquet: Uint8Array, group: number): RecordBatch[] {
  const table = pw.readParquet(parquet, { rowGroups: [group], batchSize: READ_BATCH_ROWS });
  try {
    const batches: RecordBatch[] = [];
    for (let i = 0; i < table.numBatches; i++) {
      const read = tableFromIPC(table.recordBatch(i)!.intoIPCStream());
      checkSchema(read.schema);
      batches.push(...read.batches);
    }
    return batches;
  } finally {
    table.free();
  }
}

/** The file's columns must be the current ones: a rewrite must not relabel an older file. */
function checkSchema(schema: Schema): void {
  const fields = schema.fields;
  const expected = ARROW_SCHEMA.fields;
  const problems: string[] = [];
  if (fields.length !== expected.length) problems.push(`${fields.length} columns, expected ${expected.length}`);
  for (let i = 0; i < Math.min(fields.length, expected.length); i++) {
    const f = fields[i]!;
    const e = expected[i]!;
    // typeId + toString cover what our flat types carry (bit width, signedness, unit, timezone);
    // apache-arrow's compareTypes depends on argument order for Timestamp vs TimestampMillisecond.
    if (f.name !== e.name || f.typeId !== e.typeId || String(f.type) !== String(e.type) || f.nullable !== e.nullable) {
      problems.push(`column ${i} is ${f.name}: ${String(f.type)}${f.nullable ? '' : ' not null'}, expected ${e.name}: ${String(e.type)}`);
    }
  }
  if (problems.length > 0) throw new RewriteError(`cannot rewrite a file with a different schema: ${problems.slice(0, 5).join('; ')}`);
}

/** A run of kept rows inside one source record batch: rows [from, to) of batches[batch]. */
interface Segment {
  batch: number;
  from: number;
  to: number;
}

/** Ranges in any order (compaction gathers rows sorted by time); each is cut at batch boundaries. */
function segmentsOf(batches: ReadonlyArray<RecordBatch>, ranges: ReadonlyArray<RowRange>): Segment[] {
  const starts: number[] = [];
  let total = 0;
  for (const batch of batches) {
    starts.push(total);
    total += batch.numRows;
  }
  const batchOf = (row: number): number => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const segments: Segment[] = [];
  for (const [start, end] of ranges) {
    let at = start;
    while (at < end) {
      let b = batchOf(at);
      // Skip empty batches that share a start.
      while (at >= starts[b]! + batches[b]!.numRows) b++;
      const stop = Math.min(end, starts[b]! + batches[b]!.numRows);
      segments.push({ batch: b, from: at - starts[b]!, to: stop - starts[b]! });
      at = stop;
    }
  }
  return segments;
}

/**
 * Copies `length` bits from bit `from` of `src` to bit `to` of `dst` (zeroed there), returning how
 * many were set. Byte copies when both positions share a bit phase, a bit loop otherwise.
 */
function copyBits(src: Uint8Array, from: number, dst: Uint8Array, to: number, length: number): number {
  let set = 0;
  let i = 0;
  if ((from & 7) === (to & 7)) {
    for (; i < length && ((from + i) & 7) !== 0; i++) {
      if ((src[(from + i) >> 3]! >> ((from + i) & 7)) & 1) {
        dst[(to + i) >> 3]! |= 1 << ((to + i) & 7);
        set++;
      }
    }
    const bytes = (length - i) >> 3;
    if (bytes > 0) {
      const block = src.subarray((from + i) >> 3, ((from + i) >> 3) + bytes);
      dst.set(block, (to + i) >> 3);
      for (let k = 0; k < bytes; k++) set += POPCOUNT[block[k]!]!;
      i += bytes * 8;
    }
  }
  for (; i < length; i++) {
    if ((src[(from + i) >> 3]! >> ((from + i) & 7)) & 1) {
      dst[(to + i) >> 3]! |= 1 << ((to + i) & 7);
      set++;
    }
  }
  return set;
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let v = b; v; v >>= 1) n += v & 1;
  return n;
});

/** Sets bits [to, to + length) of `dst`. */
function setBits(dst: Uint8Array, to: number, length: number): void {
  for (let i = to; i < to + length; i++) dst[i >> 3]! |= 1 << (i & 7);
}

/**
 * One column's kept rows as one contiguous Data. The source columns are flat (checkSchema): Utf8,
 * Bool, or fixed width. apache-arrow Data conventions: fixed-width values and Utf8 offsets are
 * indexed from the slice (row i at values[i * stride], valueOffsets[i]); validity bitmaps and Bool
 * values are not sliced and are indexed at data.offset + i.
 */
function gatherColumn(type: DataType, sources: ReadonlyArray<Data>, segments: ReadonlyArray<Segment>, length: number): Data {
  // Validity: none when no kept row comes from a source with nulls.
  let nullBitmap: Uint8Array | undefined;
  let nullCount = 0;
  if (segments.some((g) => sources[g.batch]!.nullCount > 0)) {
    nullBitmap = new Uint8Array((length + 7) >> 3);
    let at = 0;
    for (const { batch, from, to } of segments) {
      const source = sources[batch]!;
      const n = to - from;
      if (source.nullCount > 0) nullCount += n - copyBits(source.nullBitmap!, source.offset + from, nullBitmap, at, n);
      else setBits(nullBitmap, at, n);
      at += n;
    }
  }

  switch (type.typeId) {
    case Type.Utf8: {
      let bytes = 0;
      for (const { batch, from, to } of segments) {
        const offsets = sources[batch]!.valueOffsets as Int32Array;
        bytes += offsets[to]! - offsets[from]!;
      }
      if (bytes > 0x7fffffff) throw new RewriteError(`column of ${bytes} bytes does not fit 32-bit Arrow offsets`);
      const valueOffsets = new Int32Array(length + 1);
      const values = new Uint8Array(bytes);
      let row = 0;
      let byte = 0;
      for (const { batch, from, to } of segments) {
        const source = sources[batch]!;
        const offsets = source.valueOffsets as Int32Array;
        const first = offsets[from]!;
        const last = offsets[to]!;
        const bytes = source.values as Uint8Array;
        // Rows sorted by time make many one-row segments: a subarray per short copy costs more than the copy.
        if (last - first < 64) for (let k = first; k < last; k++) values[byte + k - first] = bytes[k]!;
        else values.set(bytes.subarray(first, last), byte);
        const delta = byte - first;
        for (let i = from; i < to; i++) valueOffsets[++row] = offsets[i + 1]! + delta;
        byte += last - first;
      }
      return new Data(type, 0, length, nullCount, buffers(valueOffsets, values, nullBitmap));
    }
    case Type.Bool: {
      const values = new Uint8Array((length + 7) >> 3);
      let at = 0;
      for (const { batch, from, to } of segments) {
        const source = sources[batch]!;
        copyBits(source.values as Uint8Array, source.offset + from, values, at, to - from);
        at += to - from;
      }
      return new Data(type, 0, length, nullCount, buffers(undefined, values, nullBitmap));
    }
    case Type.Int:
    case Type.Timestamp: {
      const stride = sources[0]!.stride;
      const ArrayType = type.ArrayType as new (length: number) => Int32Array | BigInt64Array;
      const values = new ArrayType(length * stride);
      // Short runs are copied as 32-bit words (an int64 is two): element copies of a BigInt64Array make BigInts.
      const words = stride * (values.BYTES_PER_ELEMENT >> 2);
      const out = new Int32Array(values.buffer, values.byteOffset, length * words);
      const sourceWords = sources.map((d) => {
        const v = d.values as Int32Array | BigInt64Array;
        return new Int32Array(v.buffer, v.byteOffset, v.length * (v.BYTES_PER_ELEMENT >> 2));
      });
      let at = 0;
      for (const { batch, from, to } of segments) {
        const n = (to - from) * words;
        if (n <= 16) {
          const src = sourceWords[batch]!;
          for (let k = 0, i = from * words; k < n; k++) out[at + k] = src[i + k]!;
        } else out.set(sourceWords[batch]!.subarray(from * words, to * words), at);
        at += n;
      }
      return new Data(type, 0, length, nullCount, buffers(undefined, values, nullBitmap));
    }
    default:
      throw new RewriteError(`cannot rewrite a column of type ${String(type)}`);
  }
}

/** Each kept row's source: batch index and row within it. */
interface RowSources {
  readonly batch: Int32Array;
  readonly row: Int32Array;
}

function rowsOf(segments: ReadonlyArray<Segment>, length: number): RowSources {
  const batch = new Int32Array(length);
  const row = new Int32Array(length);
  let at = 0;
  for (const g of segments) {
    for (let r = g.from; r < g.to; r++, at++) {
      batch[at] = g.batch;
      row[at] = r;
    }
  }
  return { batch, row };
}

const bitOf = (bits: Uint8Array, i: number): number => (bits[i >> 3]! >> (i & 7)) & 1;

/** gatherColumn's result, row by row (same Arrow conventions). */
function takeColumn(type: DataType, sources: ReadonlyArray<Data>, rows: RowSources, length: number): Data {
  const { batch, row } = rows;
  let nullBitmap: Uint8Array | undefined;
  let nullCount = 0;
  if (sources.some((d) => d.nullCount > 0)) {
    nullBitmap = new Uint8Array((length + 7) >> 3);
    const bitmaps = sources.map((d) => (d.nullCount > 0 ? d.nullBitmap! : undefined));
    const offsets = Int32Array.from(sources, (d) => d.offset);
    for (let i = 0; i < length; i++) {
      const b = batch[i]!;
      const bits = bitmaps[b];
      if (bits === undefined || bitOf(bits, offsets[b]! + row[i]!)) nullBitmap[i >> 3]! |= 1 << (i & 7);
      else nullCount++;
    }
  }
  switch (type.typeId) {
    case Type.Utf8: {
      const offsets = sources.map((d) => d.valueOffsets as Int32Array);
      const bytes = sources.map((d) => d.values as Uint8Array);
      let total = 0;
      for (let i = 0; i < length; i++) {
        const o = offsets[batch[i]!]!;
        total += o[row[i]! + 1]! - o[row[i]!]!;
      }
      if (total > 0x7fffffff) throw new RewriteError(`column of ${total} bytes does not fit 32-bit Arrow offsets`);
      const valueOffsets = new Int32Array(length + 1);
      const values = new Uint8Array(total);
      const out = new DataView(values.buffer);
      const views = bytes.map((v) => new DataView(v.buffer, v.byteOffset, v.byteLength));
      let at = 0;
      for (let i = 0; i < length; i++) {
        const b = batch[i]!;
        const o = offsets[b]!;
        let k = o[row[i]!]!;
        const last = o[row[i]! + 1]!;
        if (last - k < 256) {
          // 4 bytes at a time, then the tail (as columns.ts appendBytes: ~2× a byte loop).
          const view = views[b]!;
          for (; k + 4 <= last; k += 4, at += 4) out.setInt32(at, view.getInt32(k, true), true);
          const src = bytes[b]!;
          for (; k < last; k++) values[at++] = src[k]!;
        } else {
          values.set(bytes[b]!.subarray(k, last), at);
          at += last - k;
        }
        valueOffsets[i + 1] = at;
      }
      return new Data(type, 0, length, nullCount, buffers(valueOffsets, values, nullBitmap));
    }
    case Type.Bool: {
      const values = new Uint8Array((length + 7) >> 3);
      for (let i = 0; i < length; i++) {
        const d = sources[batch[i]!]!;
        if (bitOf(d.values as Uint8Array, d.offset + row[i]!)) values[i >> 3]! |= 1 << (i & 7);
      }
      return new Data(type, 0, length, nullCount, buffers(undefined, values, nullBitmap));
    }
    case Type.Int:
    case Type.Timestamp: {
      const ArrayType = type.ArrayType as new (length: number) => Int32Array | BigInt64Array;
      const values = new ArrayType(length * sources[0]!.stride);
      // As 32-bit words (an int64 is two): element copies of a BigInt64Array would make BigInts.
      const words = sources[0]!.stride * (values.BYTES_PER_ELEMENT >> 2);
      const out = new Int32Array(values.buffer, values.byteOffset, length * words);
      const from = sources.map((d) => {
        const v = d.values as Int32Array | BigInt64Array;
        return new Int32Array(v.buffer, v.byteOffset, v.length * (v.BYTES_PER_ELEMENT >> 2));
      });
      if (words === 1) for (let i = 0; i < length; i++) out[i] = from[batch[i]!]![row[i]!]!;
      else
        for (let i = 0; i < length; i++) {
          const src = from[batch[i]!]!;
          const at = row[i]! * words;
          for (let k = 0; k < words; k++) out[i * words + k] = src[at + k]!;
        }
      return new Data(type, 0, length, nullCount, buffers(undefined, values, nullBitmap));
    }
    default:
      throw new RewriteError(`cannot rewrite a column of type ${String(type)}`);
  }
}

/**
 * The rows of `batches` (taken as one sequence of rows, all with ARROW_SCHEMA's columns) in `ranges`
 * (half-open, non-overlapping, within the batches, in the order wanted; `kept` rows in all) as ONE
 * record batch of contiguous buffers under ARROW_SCHEMA. Exported for tests and compaction.
 */
export function keptRows(batches: ReadonlyArray<RecordBatch>, ranges: ReadonlyArray<RowRange>, kept: number): RecordBatch {
  const segments = segmentsOf(batches, ranges);
  // Rows sorted by time come mostly one per segment: then a take by row beats per-segment copies.
  const rows = segments.length * 4 > kept ? rowsOf(segments, kept) : undefined;
  const children = ARROW_SCHEMA.fields.map((field, i) => {
    const sources = batches.map((b) => b.data.children[i]!);
    return rows ? takeColumn(field.type, sources, rows, kept) : gatherColumn(field.type, sources, segments, kept);
  });
  const struct = makeData({ type: new Struct(ARROW_SCHEMA.fields), length: kept, nullCount: 0, children });
  return new RecordBatch(ARROW_SCHEMA, struct);
}

/**
 * The lines of a reject file (JSON Lines as partition.ts `rejectLine` writes them: one JSON object per
 * rejected log line, with a string `source_key`) whose source_key passes `keep`, byte for byte, each
 * ending in `\n`; a final line without a line break is kept with one added. Throws on a line (an empty
 * one included) that is not JSON with a string source_key, naming its 1-based line number.
 */
export function keepRejectLines(jsonl: Uint8Array, keep: (sourceKey: string) => boolean): { bytes: Uint8Array; lines: number } {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const kept: Array<[start: number, end: number]> = [];
  let size = 0;
  let lineNumber = 0;
  let start = 0;
  while (start < jsonl.length) {
    lineNumber++;
    const newline = jsonl.indexOf(0x0a, start);
    const end = newline < 0 ? jsonl.length : newline;
    let record: unknown;
    try {
      record = JSON.parse(decoder.decode(jsonl.subarray(start, end)));
    } catch (error) {
      throw new RewriteError(`reject file line ${lineNumber} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    const sourceKey =
      typeof record === 'object' && record !== null && !Array.isArray(record) ? (record as Record<string, unknown>).source_key : undefined;
    if (typeof sourceKey !== 'string') throw new RewriteError(`reject file line ${lineNumber} has no string source_key`);
    if (keep(sourceKey)) {
      kept.push([start, end]);
      size += end - start + 1;
    }
    start = end + 1;
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const [s, e] of kept) {
    bytes.set(jsonl.subarray(s, e), at);
    at += e - s;
    bytes[at++] = 0x0a;
  }
  return { bytes, lines: kept.length };
}
