import { describe, expect, it } from 'vitest';
import { hasByte, repeated } from '../src/stages/bytes.js';
import { Random } from '../src/demo/random.js';

describe('hasByte (word-at-a-time search of the parser and key decoder)', () => {
  it('finds a byte in every position of a word, and only when it is there', () => {
    const rng = new Random(7);
    const random = () => rng.float();
    const view = new DataView(new ArrayBuffer(4));
    for (let round = 0; round < 20_000; round++) {
      // Mostly ASCII text, some high bytes and some of the searched bytes, in any position.
      for (let i = 0; i < 4; i++)
        view.setUint8(i, random() < 0.2 ? [0x20, 0x22, 0x25, 0x2b, 0x21, 0x1f][Math.floor(random() * 6)]! : Math.floor(random() * 256));
      const word = view.getInt32(0, true);
      for (const byte of [0x20, 0x22, 0x25, 0x2b]) {
        const present = [0, 1, 2, 3].some((i) => view.getUint8(i) === byte);
        expect(hasByte(word, repeated(byte)), `${word.toString(16)} / ${byte.toString(16)}`).toBe(present);
      }
    }
  });
});
