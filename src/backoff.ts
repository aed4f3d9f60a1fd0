/**
 * The one retry loop, with exponential backoff and full jitter: a random wait up to
 * min(maxMs, baseMs · 2^(attempt−1)) before each new attempt, so many clients backing off at once spread
 * out instead of retrying together. S3 requests, Glue calls and the local catalog's compare-and-swap use it.
 */

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The wait before attempt `attempt + 1`. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1));
}

export interface RetryOptions {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** First backoff step; a function picks it per error (throttling backs off from a higher base). */
  readonly baseMs: number | ((error: unknown) => number);
  readonly maxMs: number;
  /** Whether this error is worth another attempt. */
  readonly retryable: (error: unknown) => boolean;
  /** Called before each pause (retry counters). */
  readonly onRetry?: (error: unknown, attempt: number) => void;
}

/**
 * Runs `work` until it returns, pausing between attempts while the error is retryable and attempts are
 * left. Otherwise rejects with `giveUp(lastError, attempts)` (default: the last error as it is), so the
 * caller turns it into its own typed error.
 */
export async function retrying<T>(
  work: (attempt: number) => Promise<T>,
  options: RetryOptions & { readonly giveUp?: (error: unknown, attempts: number) => unknown },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (error) {
      if (attempt >= options.maxAttempts || !options.retryable(error)) throw options.giveUp ? await options.giveUp(error, attempt) : error;
      options.onRetry?.(error, attempt);
      const base = typeof options.baseMs === 'function' ? options.baseMs(error) : options.baseMs;
      await sleep(backoffMs(attempt, base, options.maxMs));
    }
  }
}
