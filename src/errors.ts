/**
 * Typed errors: callers act on `code`; messages say where (object, line, partition) and what to do.
 */

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

export type CatalogErrorCode =
  | 'not_found'
  | 'incompatible_schema'
  | 'throttled'
  | 'access_denied'
  | 'invalid'
  | 'io';

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

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
