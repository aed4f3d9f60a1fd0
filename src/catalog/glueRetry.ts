/**
 * The Glue catalog's own retry layer, on top of the SDK's: exponential backoff with full jitter for
 * throttling and ConcurrentModificationException (which the SDK does not retry), read-modify-write
 * replays when UpdateTable loses a race, and errors that name the missing glue: action.
 */
import { backoffMs, retrying, sleep } from '../backoff.js';
import { CatalogError, errorMessage, TableConflict } from '../errors.js';

export interface RetryOptions {
  /** Attempts per call at our level, including the first (each may include the SDK's own retries). */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
}

/** Defined in src/errors.ts with the other error classes; exported here too for existing importers. */
export { TableConflict };

const RETRIABLE = new Set([
  'ThrottlingException',
  'ConcurrentModificationException',
  'InternalServiceException',
  'OperationTimeoutException',
]);

/**
 * Retries at our level with exponential backoff and full jitter: the SDK retries throttling a few
 * times, but not ConcurrentModificationException, and a large backfill can outlast its attempts.
 */
export class GlueRetry {
  private retries = 0;
  private calls = 0;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(
    private readonly where: string,
    options: RetryOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 8;
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 20_000;
  }

  stats(): { retries: number; calls: number } {
    return { retries: this.retries, calls: this.calls };
  }

  /** One Glue call; `tolerate` names an error that means "answer undefined" (e.g. EntityNotFoundException on a Get). */
  async call<T extends { $metadata?: { attempts?: number } }>(
    operation: string,
    send: () => Promise<T>,
    opts: { tolerate?: string; conflictsAreFinal?: boolean } = {},
  ): Promise<T | undefined> {
    return retrying(
      async () => {
        this.calls++;
        try {
          const out = await send();
          this.retries += Math.max(0, (out.$metadata?.attempts ?? 1) - 1);
          return out;
        } catch (error) {
          const e = error as { name?: string; message?: string; $metadata?: { attempts?: number } };
          this.retries += Math.max(0, (e.$metadata?.attempts ?? 1) - 1);
          if (opts.tolerate && e.name === opts.tolerate) return undefined;
          if (e.name === 'ConcurrentModificationException' && opts.conflictsAreFinal) {
            throw new TableConflict(
              `glue:${operation} on ${this.where}: the table changed concurrently (${e.message}); re-run if this persists`,
              'throttled',
              undefined,
              { cause: error },
            );
          }
          throw error;
        }
      },
      {
        ...this.backoff(),
        retryable: (error) => !(error instanceof TableConflict) && RETRIABLE.has((error as { name?: string }).name ?? ''),
        giveUp: (error, attempts) =>
          error instanceof TableConflict
            ? error
            : this.toCatalogError(operation, error as { name?: string; message?: string }, attempts, error),
      },
    );
  }

  /** Re-runs a read-modify-write of the table when UpdateTable lost a race (stale VersionId). */
  conflicts<T>(work: () => Promise<T>): Promise<T> {
    return retrying(work, { ...this.backoff(), retryable: (error) => error instanceof TableConflict });
  }

  /** One backoff step (a batch call that made no progress). */
  pause(attempt: number): Promise<void> {
    return sleep(backoffMs(attempt, this.baseDelayMs, this.maxDelayMs));
  }

  private backoff() {
    return { maxAttempts: this.maxAttempts, baseMs: this.baseDelayMs, maxMs: this.maxDelayMs, onRetry: () => void this.retries++ };
  }

  private toCatalogError(operation: string, e: { name?: string; message?: string }, attempts: number, cause: unknown): CatalogError {
    const what = `glue:${operation} on ${this.where}`;
    switch (e.name) {
      case 'AccessDeniedException':
        return new CatalogError(
          `${what} was denied (${e.message}). Grant glue:${operation} on the catalog, database and table ARNs ` +
            `(arn:aws:glue:<region>:<account>:catalog, database/<db>, table/<db>/<table>; policy in docs/catalog.md).`,
          'access_denied',
          undefined,
          { cause },
        );
      case 'EntityNotFoundException':
        return new CatalogError(
          `${what}: ${e.message}. Check --database/--table and --region; the CLI creates them on the next run.`,
          'not_found',
          undefined,
          { cause },
        );
      case 'ThrottlingException':
      case 'ConcurrentModificationException':
        return new CatalogError(
          `${what} still failed with ${e.name} after ${attempts} attempts (${e.message}). Re-run later or with lower concurrency; registration is idempotent.`,
          'throttled',
          undefined,
          { cause },
        );
      case 'InvalidInputException':
      case 'ValidationException':
        return new CatalogError(`${what} was rejected as invalid: ${e.message}`, 'invalid', undefined, { cause });
      default:
        return new CatalogError(`${what} failed: ${e.name ?? 'Error'}: ${errorMessage(cause)}`, 'io', undefined, { cause });
    }
  }
}
