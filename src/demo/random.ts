/**
 * A small seeded PRNG (mulberry32) with the helpers the log generator needs. Same seed, same
 * sequence, on every platform: only 32-bit integer math and `Math.imul`, never `Math.random`.
 */

const TWO_POW_32 = 4294967296;
const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Scramble a seed so that nearby seeds (1, 2, 3…) start far apart (murmur3 finalizer). */
function mixSeed(seed: number): number {
  const whole = Math.trunc(seed);
  let h = (whole ^ Math.floor(whole / TWO_POW_32)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class Random {
  private state: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`random seed must be a finite number, got ${seed}`);
    this.state = mixSeed(seed);
  }

  /** Uniform integer in [0, 2^32). */
  uint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.uint32() / TWO_POW_32;
  }

  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('cannot pick from an empty list');
    return items[Math.floor(this.float() * items.length)] as T;
  }

  /** Index skewed towards 0 (a few hot items, a long tail), as real clients and keys are. */
  skewedIndex(length: number, power = 2.5): number {
    return Math.min(length - 1, Math.floor(this.float() ** power * length));
  }

  /** Standard normal deviate (Box-Muller; one value per call keeps the sequence simple). */
  normal(): number {
    const u = 1 - this.float(); // (0, 1], so log never sees 0
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }

  /** Log-normal value with the given median; sigma is the spread of its logarithm. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /** `length` hex digits. */
  hex(length: number, upper = false): string {
    let out = '';
    while (out.length < length) out += this.uint32().toString(16).padStart(8, '0');
    out = out.slice(0, length);
    return upper ? out.toUpperCase() : out;
  }

  /** `length` characters drawn from `alphabet` (at most 64 symbols: 5 draws per 32-bit number). */
  fromAlphabet(alphabet: string, length: number): string {
    let out = '';
    while (out.length < length) {
      let bits = this.uint32();
      for (let i = 0; i < 5 && out.length < length; i++) {
        out += alphabet[(bits & 63) % alphabet.length];
        bits >>>= 6;
      }
    }
    return out;
  }

  base64(length: number): string {
    return this.fromAlphabet(BASE64_ALPHABET, length);
  }

  upperAlnum(length: number): string {
    return this.fromAlphabet(UPPER_ALNUM, length);
  }
}

/** Weighted choice with the cumulative table built once, so each draw is a short scan. */
export class WeightedPicker<T> {
  private readonly items: T[] = [];
  private readonly cumulative: number[] = [];
  private readonly total: number;

  constructor(entries: ReadonlyArray<readonly [T, number]>) {
    let sum = 0;
    for (const [item, weight] of entries) {
      if (!(weight >= 0)) throw new RangeError(`weight must be >= 0, got ${weight}`);
      if (weight === 0) continue;
      sum += weight;
      this.items.push(item);
      this.cumulative.push(sum);
    }
    if (sum === 0) throw new RangeError('weighted choice needs at least one positive weight');
    this.total = sum;
  }

  pick(random: Random): T {
    const target = random.float() * this.total;
    for (let i = 0; i < this.cumulative.length; i++) {
      if (target < (this.cumulative[i] as number)) return this.items[i] as T;
    }
    return this.items[this.items.length - 1] as T;
  }
}
