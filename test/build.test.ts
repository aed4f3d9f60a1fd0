/** Column buffers: time order (linear and fallback), gather with nulls, transfer state round trip. */
import { describe, expect, it } from 'vitest';
import { generateKeyDate } from '../scripts/genLogs.js';
import { RowBatch, timeOrder } from '../src/stages/build.js';
import { columnFrom } from '../src/stages/columns.js';
import { LineSpans, parseLogObject } from '../src/stages/parse.js';

const rowsOf = (batch: RowBatch) =>
  batch.toArrowTable().toArray().map((r) => JSON.stringify(r.toJSON(), (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)));

function batchOf(seed: number): RowBatch {
  const batch = new RowBatch();
  const spans = new LineSpans();
  for (const o of generateKeyDate({ seed, keyDate: '2024-04-04', layout: 'simple', objects: 6, maxObjectBytes: 32 * 1024, oldFormatFraction: 0.2 })) {
    parseLogObject(o.body, { row: (buf, s) => batch.appendRow(buf, s), reject: () => undefined }, spans);
  }
  return batch;
}

describe('RowBatch', () => {
  it('orders by time stably, by counting seconds or (for other times) by comparison', () => {
    const seconds = Float64Array.from([5000, 1000, 5000, 3000, 1000]);
    expect([...timeOrder(seconds, 1000, 5000)]).toEqual([1, 4, 3, 0, 2]);
    const millis = Float64Array.from([5001, 1000, 5001, 3000, 999]);
    expect([...timeOrder(millis, 999, 5001)]).toEqual([4, 1, 3, 0, 2]);
  });

  it('sorting keeps every row and value (nulls included), only reordered', () => {
    const batch = batchOf(5);
    const before = rowsOf(batch);
    const sorted = batch.sortedByTime();
    expect(sorted).not.toBe(batch);
    const after = rowsOf(sorted);
    expect([...after].sort()).toEqual([...before].sort());
    const times = after.map((r) => JSON.parse(r).requestdatetime as number);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('survives the transfer state round trip used by encode workers, and emptyLike starts empty', () => {
    const batch = batchOf(6);
    const before = rowsOf(batch);
    const again = new RowBatch(batch.columns.map((c) => columnFrom(c.state())));
    expect(rowsOf(again)).toEqual(before);
    const empty = batch.emptyLike();
    expect(empty.length).toBe(0);
    expect(empty.byteSize()).toBe(0);
  });
});
