/**
 * Column buffers in Arrow's physical layout (values/offsets + validity bitmap), filled straight from log
 * bytes — no per-value JS strings or builders, which measured ~10× slower for strings (LIBRARIES.md 3b).
 * Nothing here loads apache-arrow (~0.2 s of CPU per process): the encoder writes the IPC stream from
 * these buffers (ipc.ts), and arrowTable.ts wraps them as Arrow Data where a Table is wanted.
 *
 * One class for every kind, so that each append site sees one shape (monomorphic calls that inline).
 * Row capacity (validity, offsets, fixed-width values) is grown by the batch for all columns at once
 * (ensureRows); only string bytes are checked per value. Buffers come from a BufferPool and go back to it
 * when a file is encoded, so a long run stops allocating (and collecting) column buffers.
 */

export type PhysicalKind = 'utf8' | 'int32' | 'int64' | 'bool';

/**
 * Spare column buffers by size (powers of two), reused across files: large ArrayBuffers are external
 * memory, and allocating them is what made V8 run full collections every few MiB. Bounded, so a burst
 * of big partitions does not pin memory for the rest of the run.
 */
export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private held = 0;
  constructor(readonly maxBytes: number) {}

  /** A zero-filled buffer of at least `bytes` (rounded up to a power of two, at least 64). */
  take(bytes: number): ArrayBuffer {
    const size = sizeClass(bytes);
    const spare = this.free.get(size)?.pop();
    if (spare === undefined) return new ArrayBuffer(size);
    this.held -= size;
    return spare;
  }

  /** Hands a buffer back; it must not be used afterwards. Buffers that are not a size class are dropped. */
  give(buffer: ArrayBuffer, usedBytes = buffer.byteLength): void {
    const size = buffer.byteLength;
    if (size !== sizeClass(size) || this.held + size > this.maxBytes) return;
    // Handed out zero-filled: validity bits and booleans are only ever OR-ed in.
    new Uint8Array(buffer, 0, Math.min(size, usedBytes)).fill(0);
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(buffer);
    this.held += size;
  }

  heldBytes(): number {
    return this.held;
  }
}

function sizeClass(bytes: number): number {
  let size = 64;
  while (size < bytes) size *= 2;
  return size;
}

/** A pool that keeps nothing (tests, tools): every take allocates. */
export const NO_POOL = new BufferPool(0);

/** A column's buffers as plain data, to hand to a worker thread by transfer (no copy). */
export interface ColumnState {
  readonly kind: PhysicalKind;
  readonly length: number;
  readonly nulls: number;
  readonly validity: Uint8Array;
  readonly values: Uint8Array;
  readonly offsets?: Int32Array;
  readonly bytes?: number;
}

/** Bytes per value of the fixed-width kinds (bool: bits, counted by validityBytes). */
const WIDTH: Record<PhysicalKind, number> = { utf8: 0, int32: 4, int64: 8, bool: 0 };

export const validityBytes = (rows: number): number => (rows + 7) >> 3;

export class Column {
  length = 0;
  nulls = 0;
  /** Validity bitmap (1 = valid, LSB first, as Arrow); zero-filled, bits are only set. */
  validity: Uint8Array;
  /** utf8: the string bytes; int32/int64: little-endian values; bool: value bits. */
  data: Uint8Array;
  /** int32 values, or int64 values as lo/hi int32 pairs (no BigInt per append); a view of `data`. */
  words: Int32Array;
  /** utf8: value offsets (length + 1 used); empty otherwise. */
  offsets: Int32Array;
  /** utf8: bytes of `data` in use. */
  bytes = 0;
  /** utf8: `data` as a DataView, for 4-byte copies. */
  private view: DataView;

  constructor(
    readonly kind: PhysicalKind,
    readonly pool: BufferPool = NO_POOL,
    rows = 256,
    dataBytes = 1024,
  ) {
    this.validity = new Uint8Array(pool.take(validityBytes(rows)));
    this.offsets = kind === 'utf8' ? new Int32Array(pool.take((rows + 1) * 4)) : new Int32Array(0);
    this.data = new Uint8Array(pool.take(kind === 'utf8' ? dataBytes : kind === 'bool' ? validityBytes(rows) : rows * WIDTH[kind]));
    this.words = kind === 'int32' || kind === 'int64' ? new Int32Array(this.data.buffer) : new Int32Array(0);
    this.view = new DataView(this.data.buffer);
  }

  /** Rows that fit without growing. */
  rowCapacity(): number {
    const byValidity = this.validity.length * 8;
    switch (this.kind) {
      case 'utf8':
        return Math.min(byValidity, this.offsets.length - 1);
      case 'bool':
        return Math.min(byValidity, this.data.length * 8);
      default:
        return Math.min(byValidity, this.data.length / WIDTH[this.kind]);
    }
  }

  /** Makes room for `rows` rows (not for string bytes: appendBytes checks those). */
  ensureRows(rows: number): void {
    if (validityBytes(rows) > this.validity.length)
      this.validity = this.regrow(this.validity, validityBytes(rows), validityBytes(this.length));
    if (this.kind === 'utf8') {
      if (rows + 1 > this.offsets.length)
        this.offsets = new Int32Array(this.regrow(new Uint8Array(this.offsets.buffer), (rows + 1) * 4, (this.length + 1) * 4).buffer);
      return;
    }
    const needed = this.kind === 'bool' ? validityBytes(rows) : rows * WIDTH[this.kind];
    if (needed > this.data.length) {
      this.data = this.regrow(this.data, needed, this.kind === 'bool' ? validityBytes(this.length) : this.length * WIDTH[this.kind]);
      this.words = new Int32Array(this.data.buffer);
    }
  }

  private regrow(old: Uint8Array, needed: number, used: number): Uint8Array {
    const bigger = new Uint8Array(this.pool.take(Math.max(needed, old.length * 2)));
    bigger.set(old.subarray(0, used));
    this.pool.give(old.buffer as ArrayBuffer, used);
    return bigger;
  }

  private growData(needed: number): void {
    this.data = this.regrow(this.data, needed, this.bytes);
    this.view = new DataView(this.data.buffer);
  }

  /** Appends buf[s, e) as a string. `src` is a DataView over exactly buf's bytes (the batch keeps one per input buffer). */
  appendBytes(buf: Uint8Array, src: DataView, s: number, e: number): void {
    const len = e - s;
    let at = this.bytes;
    if (at + len > this.data.length) this.growData(at + len);
    const data = this.data;
    if (len < 160) {
      // No view object per value: 4 bytes at a time, then the tail (measured ~2× a byte loop).
      const view = this.view;
      let i = s;
      for (; i + 8 <= e; i += 8, at += 8) {
        view.setInt32(at, src.getInt32(i, true), true);
        view.setInt32(at + 4, src.getInt32(i + 4, true), true);
      }
      if (i + 4 <= e) {
        view.setInt32(at, src.getInt32(i, true), true);
        i += 4;
        at += 4;
      }
      for (; i < e; i++) data[at++] = buf[i]!;
    } else {
      data.set(buf.subarray(s, e), at);
      at += len;
    }
    this.bytes = at;
    const row = this.length++;
    this.offsets[row + 1] = at;
    this.validity[row >> 3]! |= 1 << (row & 7);
  }

  appendInt32(value: number): void {
    const row = this.length++;
    this.words[row] = value;
    this.validity[row >> 3]! |= 1 << (row & 7);
  }

  /** A safe integer (or a timestamp in ms), split into two's-complement lo/hi words (negative values too). */
  appendInt64(value: number): void {
    const row = this.length++;
    const hi = Math.floor(value / 0x1_0000_0000);
    this.words[row * 2] = (value - hi * 0x1_0000_0000) | 0;
    this.words[row * 2 + 1] = hi;
    this.validity[row >> 3]! |= 1 << (row & 7);
  }

  appendBool(value: boolean): void {
    const row = this.length++;
    if (value) this.data[row >> 3]! |= 1 << (row & 7);
    this.validity[row >> 3]! |= 1 << (row & 7);
  }

  appendNull(): void {
    const row = this.length++;
    // Values stay zero (buffers are zero-filled); a string's offset repeats the previous one.
    if (this.kind === 'utf8') this.offsets[row + 1] = this.bytes;
    this.nulls++;
  }

  /** An int64/timestamp value as a JS number (safe integers only, which is all the log holds). */
  getInt64(index: number): number {
    return this.words[index * 2 + 1]! * 0x1_0000_0000 + (this.words[index * 2]! >>> 0);
  }

  /** Bytes of values held (what a file's size is cut on). */
  byteSize(): number {
    switch (this.kind) {
      case 'utf8':
        return this.bytes + this.length * 4;
      case 'bool':
        return this.length >> 3;
      default:
        return this.length * WIDTH[this.kind];
    }
  }

  /** Bytes allocated, growth slack included (what the memory budget counts). */
  allocated(): number {
    return this.data.byteLength + this.offsets.byteLength + this.validity.byteLength;
  }

  /** An empty column with room for as many values as this one holds (the next file of a busy partition). */
  emptyLike(): Column {
    return new Column(this.kind, this.pool, Math.max(256, this.length), Math.max(1024, this.bytes));
  }

  /** Buffers for transfer; the column must not be used afterwards. */
  state(): ColumnState {
    return {
      kind: this.kind,
      length: this.length,
      nulls: this.nulls,
      validity: this.validity,
      values: this.data,
      offsets: this.offsets,
      bytes: this.bytes,
    };
  }

  /** Gives the buffers back to the pool; the column must not be used afterwards. */
  release(): void {
    releaseState(this.state(), this.pool);
  }
}

/** Hands a column's buffers (sent to a worker and back) to the pool, with how much of each was written. */
export function releaseState(state: ColumnState, pool: BufferPool): void {
  const rows = state.length;
  pool.give(state.validity.buffer as ArrayBuffer, validityBytes(rows));
  const used = state.kind === 'utf8' ? (state.bytes ?? 0) : state.kind === 'bool' ? validityBytes(rows) : rows * WIDTH[state.kind];
  pool.give(state.values.buffer as ArrayBuffer, used);
  if (state.offsets && state.offsets.byteLength > 0) pool.give(state.offsets.buffer as ArrayBuffer, (rows + 1) * 4);
}

/** Rebuilds a column from transferred buffers (the inverse of Column.state()). */
export function columnFrom(state: ColumnState): Column {
  const c = new Column(state.kind, NO_POOL, 0, 0);
  c.validity = state.validity;
  c.data = state.values;
  c.words =
    state.kind === 'int32' || state.kind === 'int64'
      ? new Int32Array(state.values.buffer, state.values.byteOffset, state.values.byteLength >> 2)
      : new Int32Array(0);
  c.offsets = state.offsets ?? new Int32Array(0);
  c.bytes = state.bytes ?? 0;
  c.length = state.length;
  c.nulls = state.nulls;
  return c;
}
