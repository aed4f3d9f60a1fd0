/**
 * What the write stage is asked to do, without loading the Parquet writer. parquet-wasm compiles its
 * 5 MB of WebAssembly when imported; only the threads that encode should pay for that. V8's WebAssembly
 * engine and code caches are shared by all threads of a process, and crashes there with several
 * threads compiling or running WebAssembly have been reported; one CLI run in our suite died by a signal.
 */
export type Compression = 'zstd' | 'snappy' | 'gzip' | 'brotli' | 'lz4' | 'none';

/** Column data that makes a partition buffer a file, by default (--file-mb). */
export const DEFAULT_FILE_BYTES = 20 * 1024 * 1024;

/** Default --target-file-mb of compaction: AWS recommends files of at least 128 MB for Athena. */
export const DEFAULT_TARGET_FILE_MB = 128;

export const COMPRESSIONS: readonly Compression[] = ['zstd', 'snappy', 'gzip', 'brotli', 'lz4', 'none'];

export interface WriteOptions {
  compression: Compression;
  /** Rows per row group: large enough to scan fast, small enough to prune by statistics. */
  rowGroupRows: number;
  /** Recorded in the file's created_by. */
  createdBy: string;
}

export interface EncodedFile {
  bytes: Uint8Array;
  rows: number;
}
