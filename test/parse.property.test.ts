/**
 * Properties on seeded input: how lines are grouped into objects (and CRLF vs LF) does not change the
 * rows; random and truncated bytes never throw and never lose a line (lines = rows + rejects).
 */
import { describe, expect, it } from 'vitest';
import { generateKeyDate } from '../scripts/genLogs.js';
import { Random } from '../scripts/random.js';
import { parseRows } from './helpers/parseRows.js';

const objects = [
  ...generateKeyDate({
    seed: 99,
    keyDate: '2024-02-02',
    layout: 'simple',
    objects: 6,
    maxObjectBytes: 64 * 1024,
    quoteFraction: 0.05,
    extraFieldsFraction: 0.05,
    oldFormatFraction: 0.1,
    rejectFraction: 0.01,
  }),
];
const text = objects.map((o) => o.body.toString('utf8')).join('');
const lines = text.split('\n').filter((l) => l.length > 0);

function countLines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) n++;
  return n + (bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a ? 1 : 0);
}

describe('parser properties', () => {
  const whole = parseRows(Buffer.from(text));

  it('rows do not depend on how lines are grouped into objects', () => {
    const random = new Random(1);
    for (let trial = 0; trial < 20; trial++) {
      const rows: unknown[] = [];
      let rejects = 0;
      for (let i = 0; i < lines.length; ) {
        const take = 1 + random.int(0, 200);
        const chunk = parseRows(Buffer.from(lines.slice(i, i + take).join('\n') + (random.chance(0.5) ? '\n' : '')));
        rows.push(...chunk.rows);
        rejects += chunk.rejects.length;
        i += take;
      }
      expect(rows).toEqual(whole.rows);
      expect(rejects).toBe(whole.rejects.length);
    }
  });

  it('CRLF line endings give the same rows as LF', () => {
    expect(parseRows(Buffer.from(lines.join('\r\n') + '\r\n')).rows).toEqual(whole.rows);
  });

  it('random bytes never throw and every line is a row or a reject', () => {
    const random = new Random(2);
    for (let trial = 0; trial < 200; trial++) {
      const bytes = new Uint8Array(random.int(0, 4000));
      for (let i = 0; i < bytes.length; i++)
        bytes[i] = random.chance(0.1) ? 0x0a : random.chance(0.3) ? [0x20, 0x22, 0x5b, 0x5d, 0x2d][random.int(0, 4)]! : random.int(0, 255);
      const result = parseRows(bytes);
      expect(result.counts.lines).toBe(countLines(bytes));
      expect(result.counts.rows + result.counts.rejects).toBe(result.counts.lines);
    }
  });

  it('truncated and corrupted log bytes never throw and never lose a line', () => {
    const random = new Random(3);
    const source = Buffer.from(text);
    for (let trial = 0; trial < 200; trial++) {
      const cut = source.subarray(random.int(0, 2000), random.int(2000, source.length));
      const damaged = Buffer.from(cut);
      for (let k = 0; k < 5; k++) damaged[random.int(0, damaged.length - 1)] = random.int(0, 255);
      const result = parseRows(damaged);
      expect(result.counts.lines).toBe(countLines(damaged));
      expect(result.counts.rows + result.counts.rejects).toBe(result.counts.lines);
    }
  });
});
