/**
 * Typed errors, all of them: callers act on `code`; messages say where (object, line, partition) and
 * what to do. `errorCode` maps any of them to the bounded code a summary, `--json` and the job log
 * lines (`error_code`) carry.
 */
import type { LockRecord } from './records.js';
import type { ObjectCompression } from './stages/decompress.js';

export type Stage = 'config' | 'list' | 'lock' | 'fetch' | 'parse' | 'build' | 'write' | 'commit' | 'register' | 'tag';

/** A flag, config value or argument is wrong. The CLI prints the message and exits with 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    /** The flag or setting at fault, e.g. `--date`. */
    readonly flag?: string,
  ) {
    super(message);
  }
}

/** SQL given to `s3logs query` that DuckDB refused or failed to run; the message is DuckDB's. */
export class QueryError extends Error {
  override readonly name = 'QueryError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export type StorageErrorCode =
  | 'not_found'
  | 'no_such_bucket'
  | 'access_denied'
  | 'throttled'
  | 'network'
  | 'truncated'
  | 'invalid_region'
  | 'bucket_owner_mismatch'
  | 'io';

export class StorageError extends Error {
  override readonly name = 'StorageError';
  constructor(
    message: string,
    readonly code: StorageErrorCode,
    readonly key?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type CatalogErrorCode = 'not_found' | 'incompatible_schema' | 'throttled' | 'access_denied' | 'invalid' | 'io';

export class CatalogError extends Error {
  override readonly name = 'CatalogError';
  constructor(
    message: string,
    readonly code: CatalogErrorCode,
    readonly partition?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Another writer kept changing the Glue table between our GetTable and UpdateTable. */
export class TableConflict extends CatalogError {}

/** A key date could not be converted; nothing was published for it. */
export class KeyDateError extends Error {
  override readonly name = 'KeyDateError';
  constructor(
    message: string,
    readonly keyDate: string,
    readonly stage: Stage,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** SIGINT/SIGTERM stopped the run before it published anything of the key date. */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';
}

export type DecompressErrorCode =
  /** Not valid gzip/zstd data: bad header, bad block, checksum mismatch, or bytes after the end. */
  | 'corrupt'
  /** The data ends before the compressed stream does (a cut-off copy or upload). */
  | 'truncated'
  /** The output would pass `maxBytes`. */
  | 'too_large'
  /** Valid zstd this reader will not decode: a dictionary, or a window above 128 MiB (`zstd --long=28+`). */
  | 'unsupported';

/** A compressed object could not be decompressed. The message names the format and the fault, not the object: the caller adds that. */
export class DecompressError extends Error {
  override readonly name = 'DecompressError';
  constructor(
    message: string,
    readonly code: DecompressErrorCode,
    readonly compression: ObjectCompression,
    /** For `too_large`: the limit that was passed, in bytes. */
    readonly limit?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
/** The Parquet writer's output does not hold the rows it was given; nothing was published. */
export class ParquetWriteError extends Error {
  override readonly name = 'ParquetWriteError';
}

/** A publish found the manifest changed under it: another run published while this one's lock lapsed. */
export class PublishConflictError extends Error {
  override readonly name = 'PublishConflictError';
}

/** A file could not be rewritten keeping only the rows of some objects. */
export class RewriteError extends Error {
  override readonly name = 'RewriteError';
}

/** Thrown by get() when a body ends before Content-Length bytes arrived. */
export class TruncatedBodyError extends Error {
  override readonly name = 'TruncatedBody';
  constructor(received: number, expected: number) {
    super(`body ended after ${received} of ${expected} bytes`);
  }
}

/** A lock another live run holds (its lease has not run out). */
export class LockedError extends Error {
  override readonly name = 'LockedError';
  constructor(
    message: string,
    readonly lockUri: string,
    readonly holder: LockRecord | undefined,
  ) {
    super(message);
  }
}

/** Bounded failure kinds: schedulers and scripts act on these, not on messages. */
export type ErrorCode = 'locked' | 'conflict' | 'interrupted' | 'storage' | 'catalog' | 'data' | 'config' | 'internal';

export function errorCode(error: unknown): ErrorCode {
  if (error instanceof LockedError) return 'locked';
  if (error instanceof PublishConflictError) return 'conflict';
  if (error instanceof CatalogError) return 'catalog';
  if (error instanceof StorageError) return 'storage';
  if (error instanceof ConfigError) return 'config';
  if (error instanceof InterruptedError) return 'interrupted';
  return error instanceof KeyDateError ? 'data' : 'internal';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
