/** Word-at-a-time byte search helpers for the hot paths (parse, decode). */

/** A byte repeated in all four bytes of a 32-bit word, for hasByte. */
export const repeated = (byte: number): number => (byte * 0x01010101) | 0;

/** Whether any byte of the 32-bit word equals the byte repeated in `pattern` (the classic zero-byte test on word ^ pattern). */
export function hasByte(word: number, pattern: number): boolean {
  const x = word ^ pattern;
  return ((x - 0x01010101) & ~x & 0x80808080) !== 0;
}
