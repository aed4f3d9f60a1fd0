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
  bits: Uint8Array = new Uint8Array(64);
  nulls = 0;

  static from(bits: Uint8Array, nulls: number): Validity {
    const v = new Validity();
    v.bits = bits;
    v.nulls = nulls;
    return v;
  }

  set(index: number, valid: boolean): void {
    // The length check inline: this runs once per value, and a call per value measured ~5% of a run.
    if (index >> 3 >= this.bits.length) this.bits = grow(this.bits, (index >> 3) + 1);
    if (valid) this.bits[index >> 3]! |= 1 << (index & 7);
    else {
      this.bits[index >> 3]! &= ~(1 << (index & 7));
      this.nulls++;
    }
  }

  bitmap(length: number): Uint8Array | undefined {
    return this.nulls === 0 ? undefined : this.bits.subarray(0, (length + 7) >> 3);
  }
}

/** A column's buffers as plain data, to hand to a worker thread by transfer (no copy). */
export interface ColumnState {
  readonly kind: 'utf8' | 'int32' | 'int64' | 'bool';
  readonly length: number;
  readonly nulls: number;
  readonly validity: Uint8Array;
  readonly values: Uint8Array | Int32Array;
  readonly offsets?: Int32Array;
  readonly bytes?: number;
}

export interface Column {
  length: number;
  readonly validity: Validity;
  /** Buffers for transfer; the column must not be used afterwards. */
  state(): ColumnState;
  /** An empty column with room for as many values as this one holds (the next file of a busy partition). */
  emptyLike(): Column;
  appendNull(): void;
  /** Bytes of values held (what a file's size is cut on). */
  byteSize(): number;
  /** Bytes allocated, growth slack included (what the memory budget counts). */
  allocated(): number;
  toData(type: DataType): Data;
}

export class Utf8Column implements Column {
  length = 0;
  constructor(readonly validity = new Validity()) {}
  data: Uint8Array = new Uint8Array(1024);
  offsets: Int32Array = new Int32Array(256);
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

  allocated(): number {
    return this.data.byteLength + this.offsets.byteLength + this.validity.bits.byteLength;
  }

  emptyLike(): Utf8Column {
    const c = new Utf8Column();
    c.data = new Uint8Array(Math.max(1024, this.bytes));
    c.offsets = new Int32Array(Math.max(256, this.length + 1));
    c.validity.bits = new Uint8Array(Math.max(64, (this.length >> 3) + 1));
    return c;
  }

  state(): ColumnState {
    return { kind: 'utf8', length: this.length, nulls: this.validity.nulls, validity: this.validity.bits, values: this.data, offsets: this.offsets, bytes: this.bytes };
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
}

/** int32 values. */
export class Int32Column implements Column {
  length = 0;
  constructor(readonly validity = new Validity()) {}
  values: Int32Array = new Int32Array(256);

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

  allocated(): number {
    return this.values.byteLength + this.validity.bits.byteLength;
  }

  emptyLike(): Int32Column {
    const c = new Int32Column();
    c.values = new Int32Array(Math.max(256, this.length));
    c.validity.bits = new Uint8Array(Math.max(64, (this.length >> 3) + 1));
    return c;
  }

  state(): ColumnState {
    return { kind: 'int32', length: this.length, nulls: this.validity.nulls, validity: this.validity.bits, values: this.values };
  }

  toData(type: DataType): Data {
    return makeData({ type, length: this.length, nullCount: this.validity.nulls, nullBitmap: this.validity.bitmap(this.length), data: this.values.subarray(0, this.length) } as never);
  }
}

/**
 * int64 and timestamp values, stored as little-endian lo/hi int32 pairs so that appending a JS number
 * needs no BigInt; the buffer is handed to Arrow as a BigInt64Array view.
 */
export class Int64Column implements Column {
  length = 0;
  constructor(readonly validity = new Validity()) {}
  words: Int32Array = new Int32Array(512);

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

  allocated(): number {
    return this.words.byteLength + this.validity.bits.byteLength;
  }

  emptyLike(): Int64Column {
    const c = new Int64Column();
    c.words = new Int32Array(Math.max(512, this.length * 2));
    c.validity.bits = new Uint8Array(Math.max(64, (this.length >> 3) + 1));
    return c;
  }

  state(): ColumnState {
    return { kind: 'int64', length: this.length, nulls: this.validity.nulls, validity: this.validity.bits, values: this.words };
  }

  toData(type: DataType): Data {
    const view = new BigInt64Array(this.words.buffer, this.words.byteOffset, this.length);
    return makeData({ type, length: this.length, nullCount: this.validity.nulls, nullBitmap: this.validity.bitmap(this.length), data: view } as never);
  }
}

export class BoolColumn implements Column {
  length = 0;
  constructor(readonly validity = new Validity()) {}
  bits: Uint8Array = new Uint8Array(64);

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

  allocated(): number {
    return this.bits.byteLength + this.validity.bits.byteLength;
  }

  emptyLike(): BoolColumn {
    const c = new BoolColumn();
    c.bits = new Uint8Array(Math.max(64, (this.length >> 3) + 1));
    c.validity.bits = new Uint8Array(Math.max(64, (this.length >> 3) + 1));
    return c;
  }

  state(): ColumnState {
    return { kind: 'bool', length: this.length, nulls: this.validity.nulls, validity: this.validity.bits, values: this.bits };
  }

  toData(type: DataType): Data {
    return makeData({ type, length: this.length, nullCount: this.validity.nulls, nullBitmap: this.validity.bitmap(this.length), data: this.bits.subarray(0, (this.length + 7) >> 3) } as never);
  }
}

/** Rebuilds a column from transferred buffers (the inverse of Column.state()). */
export function columnFrom(state: ColumnState): Column {
  const validity = Validity.from(state.validity, state.nulls);
  switch (state.kind) {
    case 'utf8': {
      const c = new Utf8Column(validity);
      c.data = state.values as Uint8Array;
      c.offsets = state.offsets!;
      c.bytes = state.bytes!;
      c.length = state.length;
      return c;
    }
    case 'int32': {
      const c = new Int32Column(validity);
      c.values = state.values as Int32Array;
      c.length = state.length;
      return c;
    }
    case 'int64': {
      const c = new Int64Column(validity);
      c.words = state.values as Int32Array;
      c.length = state.length;
      return c;
    }
    case 'bool': {
      const c = new BoolColumn(validity);
      c.bits = state.values as Uint8Array;
      c.length = state.length;
      return c;
    }
  }
}
