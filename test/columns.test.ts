/** Column buffers reused across files: the pool hands back zeroed buffers, and reused batches build the same bytes. */
import { describe, expect, it } from 'vitest';
import { generateKeyDate } from '../scripts/genLogs.js';
import { RowBatch } from '../src/stages/build.js';
import { BufferPool, type Column } from '../src/stages/columns.js';
import { inThreadEncoder } from '../src/stages/encoder.js';
import { LineSpans, parseLogObject } from '../src/stages/parse.js';

const objects = [
  ...generateKeyDate({
    seed: 31,
    keyDate: '2024-06-06',
    layout: 'simple',
    objects: 8,
    maxObjectBytes: 48 * 1024,
    oldFormatFraction: 0.2,
    extraFieldsFraction: 0.1,
  }),
];

function fill(batch: RowBatch, from: number, to: number): RowBatch {
  const spans = new LineSpans();
  for (const o of objects.slice(from, to))
    parseLogObject(o.body, { row: (buf, s) => batch.appendRow(buf, s), reject: () => undefined }, spans);
  return batch;
}

const bytesOf = (c: Column): string => {
  const s = c.state();
  const used = s.kind === 'utf8' ? s.bytes! : s.kind === 'bool' ? (s.length + 7) >> 3 : s.length * (s.kind === 'int32' ? 4 : 8);
  return [
    s.length,
    s.nulls,
    Buffer.from(s.validity.subarray(0, (s.length + 7) >> 3)).toString('hex'),
    Buffer.from(s.values.subarray(0, used)).toString('hex'),
  ].join(' ');
};

describe('BufferPool', () => {
  it('gives back a returned buffer of the size class, zero-filled, and keeps at most its limit', () => {
    const pool = new BufferPool(4096);
    const a = pool.take(1000);
    expect(a.byteLength).toBe(1024);
    new Uint8Array(a).fill(7);
    pool.give(a);
    expect(pool.heldBytes()).toBe(1024);
    const b = pool.take(600);
    expect(b).toBe(a);
    expect(new Uint8Array(b).every((x) => x === 0)).toBe(true);
    for (let i = 0; i < 10; i++) pool.give(new ArrayBuffer(1024));
    expect(pool.heldBytes()).toBe(4096);
  });

  it('a file encoded in-thread returns its buffers, and a batch built from them holds the same bytes as a fresh one', async () => {
    const pool = new BufferPool(64 * 1024 * 1024);
    const first = fill(new RowBatch(undefined, pool), 0, 5);
    await inThreadEncoder({ compression: 'zstd', rowGroupRows: 250_000, createdBy: 'test' }).encode(first);
    const held = pool.heldBytes();
    expect(held).toBeGreaterThan(64 * 1024);
    const reused = fill(new RowBatch(undefined, pool), 5, 8);
    expect(pool.heldBytes()).toBeLessThan(held);
    const fresh = fill(new RowBatch(), 5, 8);
    expect(reused.length).toBeGreaterThan(0);
    expect(reused.columns.map(bytesOf)).toEqual(fresh.columns.map(bytesOf));
  });
});
