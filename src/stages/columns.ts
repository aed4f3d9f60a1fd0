/**
 * Growable column buffers in Arrow's physical layout (values/offsets + validity bitmap), filled straight
 * from log bytes and wrapped as Arrow Data with makeData — no per-value JS strings or builders, which
 * measured ~10× slower for strings (LIBRARIES.md 3b).
 */
import { makeData, type Data, type DataType } from 'apache-arrow';

function grow<T extends Uint8Array | Int32Array>(array: T, needed: number): T {
  if (needed <= array.length) return array;
  let size = Math.max(array.length * 2, 64);
  while (size < needed) size *= 2;
  const bigger = new (array.constructor as new (n: number) => T)(size);
  bigger.set(array);
  return bigger;
}

/** Validity bitmap shared by every column kind (1 = valid, LSB first, as Arrow). */
class Validity {
  bits = new Uint8Array(64);
  nulls = 0;

  set(index: number, valid: boolean): void {
    // The length check inline: this runs once per value, and a call per value measured ~5% of a run.
    if (index >> 3 >= this.bits.length) this.bits = grow(this.bits, (index >> 3) + 1);
    if (valid) this.bits[index >> 3]! |= 1 << (index & 7);
    else {
      this.bits[index >> 3]! &= ~(1 << (index & 7));
      this.nulls++;
    }
  }

  isValid(index: number): boolean {
    return (this.bits[index >> 3]! & (1 << (index & 7))) !== 0;
  }

  bitmap(length: number): Uint8Array | undefined {
    return this.nulls === 0 ? undefined : this.bits.subarray(0, (length + 7) >> 3);
  }
}

export interface Column {
  length: number;
  readonly validity: Validity;
  appendNull(): void;
  /** Bytes held, for the memory budget. */
  byteSize(): number;
  toData(type: DataType): Data;
  /** New column holding rows in `order` (used to sort a file by time). */
  gather(order: Uint32Array): Column;
}

export class Utf8Column implements Column {
  length = 0;
  readonly validity = new Validity();
  data = new Uint8Array(1024);
  offsets = new Int32Array(256);
  bytes = 0;

  append(buf: Uint8Array, start: number, end: number): void {
    const len = end - start;
    if (this.bytes + len > this.data.length) this.data = grow(this.data, this.bytes + len);
    // Short fields dominate; a plain loop beats subarray()+set() for them.
    if (len < 32) for (let i = 0; i < len; i++) this.data[this.bytes + i] = buf[start + i]!;
    else this.data.set(buf.subarray(start, end), this.bytes);
    this.bytes += len;
    this.push(true);
  }

  appendNull(): void {
    this.push(false);
  }

  private push(valid: boolean): void {
    this.validity.set(this.length, valid);
    this.length++;
    if (this.length + 1 > this.offsets.length) this.offsets = grow(this.offsets, this.length + 1);
    this.offsets[this.length] = this.bytes;
  }

  byteSize(): number {
    return this.bytes + this.length * 4;
  }

  toData(type: DataType): Data {
    return makeData({
      type,
      length: this.length,
      nullCount: this.validity.nulls,
      nullBitmap: this.validity.bitmap(this.length),
      valueOffsets: this.offsets.subarray(0, this.length + 1),
      data: this.data.subarray(0, this.bytes),
    } as never);
  }

  gather(order: Uint32Array): Utf8Column {
    const out = new Utf8Column();
    out.data = new Uint8Array(Math.max(this.bytes, 1));
    out.offsets = new Int32Array(order.length + 1);
    for (const row of order) {
      if (this.validity.isValid(row)) out.append(this.data, this.offsets[row]!, this.offsets[row + 1]!);
      else out.appendNull();
    }
    return out;
  }
}

/** int32 values. */
export class Int32Column implements Column {
  length = 0;
  readonly validity = new Validity();
  values = new Int32Array(256);

  append(value: number): void {
    if (this.length >= this.values.length) this.values = grow(this.values, this.length + 1);
    this.values[this.length] = value;
    this.validity.set(this.length++, true);
  }

  appendNull(): void {
    this.values = grow(this.values, this.length + 1);
    this.values[this.length] = 0;
    this.validity.set(this.length++, false);
  }

  byteSize(): number {
    return this.length * 4;
  }

  toData(type: DataType): Data {
    return makeData({ type, length: this.length, nullCount: this.validity.nulls, nullBitmap: this.validity.bitmap(this.length), data: this.values.subarray(0, this.length) } as never);
  }

  gather(order: Uint32Array): Int32Column {
    const out = new Int32Column();
    out.values = new Int32Array(order.length);
    for (const row of order) {
      if (this.validity.isValid(row)) out.append(this.values[row]!);
      else out.appendNull();
    }
    return out;
  }
}

/**
 * int64 and timestamp values, stored as little-endian lo/hi int32 pairs so that appending a JS number
 * needs no BigInt; the buffer is handed to Arrow as a BigInt64Array view.
 */
export class Int64Column implements Column {
  length = 0;
  readonly validity = new Validity();
  words = new Int32Array(512);

  append(value: number): void {
    if ((this.length + 1) * 2 > this.words.length) this.words = grow(this.words, (this.length + 1) * 2);
    // Two's complement split that also holds for negative values (times before 1970).
    const hi = Math.floor(value / 0x1_0000_0000);
    this.words[this.length * 2] = (value - hi * 0x1_0000_0000) | 0;
    this.words[this.length * 2 + 1] = hi;
    this.validity.set(this.length++, true);
  }

  appendNull(): void {
    this.words = grow(this.words, (this.length + 1) * 2);
    this.words[this.length * 2] = 0;
    this.words[this.length * 2 + 1] = 0;
    this.validity.set(this.length++, false);
  }

  /** Value as a JS number (safe integers only, which is all the log holds). */
  get(index: number): number {
    return this.words[index * 2 + 1]! * 0x1_0000_0000 + (this.words[index * 2]! >>> 0);
  }

  byteSize(): number {
    return this.length * 8;
  }

  toData(type: DataType): Data {
    const view = new BigInt64Array(this.words.buffer, this.words.byteOffset, this.length);
    return makeData({ type, length: this.length, nullCount: this.validity.nulls, nullBitmap: this.validity.bitmap(this.length), data: view } as never);
  }

  gather(order: Uint32Array): Int64Column {
    const out = new Int64Column();
    out.words = new Int32Array(order.length * 2);
    for (const row of order) {
      if (this.validity.isValid(row)) {
        out.words[out.length * 2] = this.words[row * 2]!;
        out.words[out.length * 2 + 1] = this.words[row * 2 + 1]!;
        out.validity.set(out.length++, true);
      } else out.appendNull();
    }
    return out;
  }
}

export class BoolColumn implements Column {
  length = 0;
  readonly validity = new Validity();
  bits = new Uint8Array(64);

  append(value: boolean): void {
    this.bits = grow(this.bits, (this.length >> 3) + 1);
    if (value) this.bits[this.length >> 3]! |= 1 << (this.length & 7);
    else this.bits[this.length >> 3]! &= ~(1 << (this.length & 7));
    this.validity.set(this.length++, true);
  }

  appendNull(): void {
    this.bits = grow(this.bits, (this.length >> 3) + 1);
    this.bits[this.length >> 3]! &= ~(1 << (this.length & 7));
    this.validity.set(this.length++, false);
  }

  byteSize(): number {
    return this.length >> 3;
  }

  toData(type: DataType): Data {
    return makeData({ type, length: this.length, nullCount: this.validity.nulls, nullBitmap: this.validity.bitmap(this.length), data: this.bits.subarray(0, (this.length + 7) >> 3) } as never);
  }

  gather(order: Uint32Array): BoolColumn {
    const out = new BoolColumn();
    for (const row of order) {
      if (!this.validity.isValid(row)) out.appendNull();
      else out.append((this.bits[row >> 3]! & (1 << (row & 7))) !== 0);
    }
    return out;
  }
}
