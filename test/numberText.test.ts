import { describe, expect, it } from 'vitest';
import { grouped } from '../src/numberText.js';

describe('grouped', () => {
  it("writes integers as toLocaleString('en-US') does", () => {
    const values = [
      0,
      7,
      -7,
      999,
      1000,
      -1000,
      12_345,
      999_999,
      1_000_000,
      -1_234_567,
      2 ** 31,
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
    ];
    for (let digits = 1; digits <= 16; digits++) values.push(Number('9'.repeat(digits)), 10 ** (digits - 1));
    for (const value of values) expect(grouped(value), String(value)).toBe(value.toLocaleString('en-US'));
  });

  it('falls back to toLocaleString for what is not a safe integer', () => {
    for (const value of [1.5, -0.25, 1e21, Number.NaN, Number.POSITIVE_INFINITY])
      expect(grouped(value)).toBe(value.toLocaleString('en-US'));
  });
});
