/** Column buffers: transfer state round trip. */
import { describe, expect, it } from 'vitest';
import { generateKeyDate } from '../scripts/genLogs.js';
import { toArrowTable } from '../src/stages/arrowTable.js';
import { RowBatch } from '../src/stages/build.js';
import { columnFrom } from '../src/stages/columns.js';
import { LineSpans, parseLogObject } from '../src/stages/parse.js';

const rowsOf = (batch: RowBatch) =>
  toArrowTable(batch)
    .toArray()
    .map((r) => JSON.stringify(r.toJSON(), (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)));

function batchOf(seed: number): RowBatch {
  const batch = new RowBatch();
  const spans = new LineSpans();
  for (const o of generateKeyDate({
    seed,
    keyDate: '2024-04-04',
    layout: 'simple',
    objects: 6,
    maxObjectBytes: 32 * 1024,
    oldFormatFraction: 0.2,
  })) {
    parseLogObject(o.body, { row: (buf, s) => batch.appendRow(buf, s), reject: () => undefined }, spans);
  }
  return batch;
}

describe('RowBatch', () => {
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
