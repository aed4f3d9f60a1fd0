/**
 * write: a RowBatch → one Parquet file (bytes), zstd by default, statistics where queries filter. Rows stay in the order
 * they were parsed (raw object by raw object): the lake records which rows of a file came from which raw
 * object as runs, so that one object's rows can be replaced without touching its neighbours'. A sort by
 * time bought no pruning here (one row group per file; measured 1.1–1.4 s of a 512 MiB day). parquet-wasm works on its own wasm-side copies; every wasm object made here is freed or consumed,
 * and the written footer's row count is checked against the rows put in before anyone publishes the
 * file (LIBRARIES.md 3a: parquet-wasm can drop data without an error).
 */
import type * as PW from 'parquet-wasm';
import { ACCESS_LOG_COLUMNS, SCHEMA_VERSION, SCHEMA_VERSION_KEY } from '../../schemas/accessLog.js';
import { ParquetWriteError } from '../errors.js';
import { footerRowCount } from './footer.js';
import { ipcStream } from './ipc.js';
import { loadParquetWasm } from './parquetWasm.js';
import type { RowBatch } from './build.js';
import type { Compression, EncodedFile, WriteOptions } from './writeOptions.js';

export type { Compression, EncodedFile, WriteOptions } from './writeOptions.js';

const pw = loadParquetWasm();

const CODEC: Record<Compression, PW.Compression> = {
  zstd: pw.Compression.ZSTD,
  snappy: pw.Compression.SNAPPY,
  gzip: pw.Compression.GZIP,
  brotli: pw.Compression.BROTLI,
  lz4: pw.Compression.LZ4_RAW,
  none: pw.Compression.UNCOMPRESSED,
};

/** Defined in src/errors.ts with the other error classes; exported here too for existing importers. */
export { ParquetWriteError };

/** The IPC stream buffer of this thread, reused for every file (parquet-wasm copies the stream in). */
let scratch: Uint8Array | undefined;

export async function encodeParquet(batch: RowBatch, options: WriteOptions): Promise<EncodedFile> {
  const ipc = ipcStream(batch.columns, batch.length, scratch);
  if (ipc.buffer !== scratch?.buffer) scratch = new Uint8Array(ipc.buffer);
  const wasmTable = pw.Table.fromIPCStream(ipc);
  const props = writerProperties(options);
  // writeParquet consumes (frees) both the table and the properties.
  const bytes = pw.writeParquet(wasmTable, props);
  const written = footerRowCount(bytes);
  if (written !== batch.length) {
    throw new ParquetWriteError(`Parquet writer wrote ${written} rows but was given ${batch.length}; the file was not published`);
  }
  return { bytes, rows: written };
}

/** The writer's settings for a file, from the schema's hints (schemas/accessLog.ts). */
export function writerProperties(options: WriteOptions): PW.WriterProperties {
  let builder = new pw.WriterPropertiesBuilder()
    .setCompression(CODEC[options.compression])
    // Statistics where queries filter (schemas/ `filtered`: page level); chunk statistics on every
    // fixed-width column (cheap); none on the other strings (long, never filtered on: issue #14 measured 8% of the
    // encode time). Dictionary encoding stays on except for random ids (schemas/ `unique`): keys, URIs
    // and user agents repeat enough that turning it off for them measured larger files for no speed.
    .setStatisticsEnabled(pw.EnabledStatistics.None);
  for (const column of ACCESS_LOG_COLUMNS) {
    if ('filtered' in column && column.filtered) builder = builder.setColumnStatisticsEnabled(column.name, pw.EnabledStatistics.Page);
    else if (column.kind !== 'string') builder = builder.setColumnStatisticsEnabled(column.name, pw.EnabledStatistics.Chunk);
    if ('unique' in column && column.unique) builder = builder.setColumnDictionaryEnabled(column.name, false);
  }
  return builder
    .setMaxRowGroupSize(options.rowGroupRows)
    .setCreatedBy(options.createdBy)
    .setKeyValueMetadata(new Map([[SCHEMA_VERSION_KEY, String(SCHEMA_VERSION)]]))
    .build();
}
