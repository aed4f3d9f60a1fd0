/**
 * write: a RowBatch → one Parquet file (bytes), sorted by requestdatetime, zstd by default, statistics
 * on. parquet-wasm works on its own wasm-side copies; every wasm object made here is freed or consumed,
 * and the written footer's row count is checked against the rows put in before anyone publishes the
 * file (LIBRARIES.md 3a: parquet-wasm can drop data without an error).
 */
import { tableToIPC } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { SCHEMA_VERSION } from '../../schemas/accessLog.js';
import type { RowBatch } from './build.js';

export type Compression = 'zstd' | 'snappy' | 'gzip' | 'brotli' | 'lz4' | 'none';

export const COMPRESSIONS: readonly Compression[] = ['zstd', 'snappy', 'gzip', 'brotli', 'lz4', 'none'];

const CODEC: Record<Compression, pw.Compression> = {
  zstd: pw.Compression.ZSTD,
  snappy: pw.Compression.SNAPPY,
  gzip: pw.Compression.GZIP,
  brotli: pw.Compression.BROTLI,
  lz4: pw.Compression.LZ4_RAW,
  none: pw.Compression.UNCOMPRESSED,
};

export interface WriteOptions {
  compression: Compression;
  /** Rows per row group: large enough to scan fast, small enough to prune by statistics. */
  rowGroupRows: number;
  /** Recorded in the file's created_by. */
  createdBy: string;
}

export class ParquetWriteError extends Error {
  override readonly name = 'ParquetWriteError';
}

export interface EncodedFile {
  bytes: Uint8Array;
  rows: number;
}

export async function encodeParquet(batch: RowBatch, options: WriteOptions): Promise<EncodedFile> {
  const sorted = batch.sortedByTime();
  const ipc = tableToIPC(sorted.toArrowTable(), 'stream');
  const wasmTable = pw.Table.fromIPCStream(ipc);
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(CODEC[options.compression])
    .setStatisticsEnabled(pw.EnabledStatistics.Page)
    .setMaxRowGroupSize(options.rowGroupRows)
    .setCreatedBy(options.createdBy)
    .setKeyValueMetadata(new Map([['s3logs.schema_version', String(SCHEMA_VERSION)]]))
    .build();
  // writeParquet consumes (frees) both the table and the properties.
  const bytes = pw.writeParquet(wasmTable, props);
  const written = await parquetRowCount(bytes);
  if (written !== sorted.length) {
    throw new ParquetWriteError(`Parquet writer wrote ${written} rows but was given ${sorted.length}; the file was not published`);
  }
  return { bytes, rows: written };
}

/** Row count from a Parquet file's footer. */
export async function parquetRowCount(bytes: Uint8Array): Promise<number> {
  const file = await pw.ParquetFile.fromFile(new Blob([bytes]));
  try {
    const metadata = file.metadata();
    try {
      const fileMetadata = metadata.fileMetadata();
      try {
        return fileMetadata.numRows();
      } finally {
        fileMetadata.free();
      }
    } finally {
      metadata.free();
    }
  } finally {
    file.free();
  }
}
