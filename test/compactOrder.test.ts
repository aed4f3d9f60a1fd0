/**
 * Compaction's row order inside one raw object: byTime sorts an object's rows (slices of decoded
 * batches) by requestdatetime, stable, and hands back slices of the same batches. Checked against a
 * plain comparison sort, on both of its paths (the packed numeric sort and the fallback for time spans
 * too wide to pack).
 */
import { type RecordBatch, tableFromArrays } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { byTime, type Slice } from '../src/stages/compact.js';

function batchOfTimes(times: number[]): RecordBatch {
  return tableFromArrays({ requestdatetime: BigInt64Array.from(times, (t) => BigInt(t)) }).batches[0]!;
}

/** (batch number, row) of every output row. */
function rowsOf(slices: readonly Slice[], batches: readonly RecordBatch[]): Array<[number, number]> {
  return slices.flatMap((s) => Array.from({ length: s.to - s.from }, (_, i): [number, number] => [batches.indexOf(s.batch), s.from + i]));
}

function seeded(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
}

describe('byTime', () => {
  const cases: Array<[string, (r: () => number) => number]> = [
    // One day of milliseconds, with many ties (whole seconds): the packed sort.
    ['one day, ties kept in log order', (r) => 1_704_067_200_000 + Math.floor(r() * 86_400) * 1000],
    // Times centuries apart cannot be packed with a row number in 53 bits: the comparison sort.
    ['a span too wide to pack', (r) => Math.floor(r() * 4) * 2 ** 45 + Math.floor(r() * 10) * 1000],
  ];
  for (const [name, time] of cases) {
    it(`orders rows as a stable comparison sort does: ${name}`, () => {
      const random = seeded(name.length);
      const batches = [
        batchOfTimes(Array.from({ length: 700 }, () => time(random))),
        batchOfTimes(Array.from({ length: 500 }, () => time(random))),
      ];
      const slices: Slice[] = [
        { batch: batches[0]!, from: 10, to: 400 },
        { batch: batches[1]!, from: 0, to: 500 },
        { batch: batches[0]!, from: 450, to: 700 },
      ];
      const timeOf = ([b, row]: [number, number]) => Number(batches[b]!.getChild('requestdatetime')!.get(row));
      const input = rowsOf(slices, batches);
      const expected = input.map((row, i) => ({ row, i })).sort((a, b) => timeOf(a.row) - timeOf(b.row) || a.i - b.i);
      const out = byTime(slices);
      expect(rowsOf(out, batches)).toEqual(expected.map((e) => e.row));
      // Runs of consecutive rows stay one slice each.
      for (let k = 1; k < out.length; k++) expect(out[k]!.batch === out[k - 1]!.batch && out[k]!.from === out[k - 1]!.to).toBe(false);
    });
  }

  it('hands back the slices as they are when the rows are already in order', () => {
    const batch = batchOfTimes([1, 2, 2, 3, 5, 8]);
    const slices: Slice[] = [
      { batch, from: 0, to: 3 },
      { batch, from: 3, to: 6 },
    ];
    expect(byTime(slices)).toEqual(slices);
  });
});
