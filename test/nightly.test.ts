import { describe, expect, it } from 'vitest';
import { nightlyKeyDate } from '../jobs/nightly.js';

describe('jobs/nightly', () => {
  it('picks the UTC date before today, across month and leap-day boundaries, with a configurable lag', () => {
    expect(nightlyKeyDate(new Date('2024-03-01T00:30:00Z'))).toBe('2024-02-29');
    expect(nightlyKeyDate(new Date('2024-03-01T23:59:59-05:00'))).toBe('2024-03-01');
    expect(nightlyKeyDate(new Date('2025-01-01T12:00:00Z'), 3)).toBe('2024-12-29');
  });
});
