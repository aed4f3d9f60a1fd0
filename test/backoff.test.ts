/**
 * The one retry loop (src/backoff.ts) that S3 requests, Glue calls and the local catalog's
 * compare-and-swap share, the one key order and the one run-id scheme.
 */
import { describe, expect, it } from 'vitest';
import { backoffMs, retrying } from '../src/backoff.js';
import { compareKeys } from '../src/compare.js';
import { newRunId } from '../src/runId.js';

describe('retrying', () => {
  it('retries a retryable error until it succeeds, counting each retry', async () => {
    const seen: number[] = [];
    let retries = 0;
    const result = await retrying(
      async (attempt) => {
        seen.push(attempt);
        if (attempt < 3) throw new Error('busy');
        return 'ok';
      },
      { maxAttempts: 5, baseMs: 1, maxMs: 2, retryable: () => true, onRetry: () => retries++ },
    );
    expect([result, seen, retries]).toEqual(['ok', [1, 2, 3], 2]);
  });

  it('gives up at once on an error that is not retryable, and after maxAttempts on one that is, through giveUp', async () => {
    const fatal = new Error('denied');
    await expect(retrying(async () => Promise.reject(fatal), { maxAttempts: 5, baseMs: 1, maxMs: 1, retryable: () => false })).rejects.toBe(
      fatal,
    );
    let calls = 0;
    const exhausted = retrying(
      async () => {
        calls++;
        throw new Error('busy');
      },
      {
        maxAttempts: 3,
        baseMs: 1,
        maxMs: 1,
        retryable: () => true,
        giveUp: (error, attempts) => new Error(`${(error as Error).message} after ${attempts} attempts`),
      },
    );
    await expect(exhausted).rejects.toThrow('busy after 3 attempts');
    expect(calls).toBe(3);
  });

  it('waits at most min(max, base * 2^(attempt-1)), never less than 0', () => {
    for (let i = 0; i < 200; i++) {
      const third = backoffMs(3, 100, 1_000);
      expect(third).toBeGreaterThanOrEqual(0);
      expect(third).toBeLessThan(400);
      expect(backoffMs(10, 100, 1_000)).toBeLessThan(1_000);
    }
  });
});

describe('keys and run ids', () => {
  it('orders keys by code unit, as S3 lists them (not by locale)', () => {
    expect(['b', 'B', 'a-1', 'a_1', 'a', 'é'].sort(compareKeys)).toEqual(['B', 'a', 'a-1', 'a_1', 'b', 'é']);
    expect(compareKeys('x', 'x')).toBe(0);
  });

  it('makes run ids that sort by start time and differ within the same millisecond', () => {
    const at = new Date('2024-01-29T03:15:00.123Z');
    const [a, b] = [newRunId(at), newRunId(at)];
    expect(a).toMatch(/^20240129T031500123Z-[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    const later = newRunId(new Date('2024-01-29T03:15:01Z'));
    expect([later, a].sort()).toEqual([a, later]);
  });
});
