/**
 * The row count in a Parquet file's footer (FileMetaData.num_rows, Thrift compact protocol), read
 * straight from the bytes: an independent check of what the writer produced, without handing the file
 * back to the library that wrote it or copying it.
 */

class Cursor {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
  ) {}

  byte(): number {
    if (this.pos >= this.bytes.length) throw new Error('Parquet footer ends early');
    return this.bytes[this.pos++]!;
  }

  varint(): number {
    let result = 0;
    let factor = 1;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * factor;
      if ((b & 0x80) === 0) return result;
      factor *= 128;
    }
  }

  zigzag(): number {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }
}

// Thrift compact type ids.
const BOOL_TRUE = 1;
const BOOL_FALSE = 2;
const BYTE = 3;
const I16 = 4;
const I32 = 5;
const I64 = 6;
const DOUBLE = 7;
const BINARY = 8;
const LIST = 9;
const SET = 10;
const MAP = 11;
const STRUCT = 12;

function skip(c: Cursor, type: number): void {
  switch (type) {
    case BOOL_TRUE:
    case BOOL_FALSE:
      return;
    case BYTE:
      c.pos++;
      return;
    case I16:
    case I32:
    case I64:
      c.varint();
      return;
    case DOUBLE:
      c.pos += 8;
      return;
    case BINARY: {
      // Read the length first: `c.pos += c.varint()` would add to the position from before the varint.
      const length = c.varint();
      c.pos += length;
      return;
    }
    case LIST:
    case SET: {
      const header = c.byte();
      const size = header >> 4 === 15 ? c.varint() : header >> 4;
      const elementType = header & 0x0f;
      // Booleans in lists take a byte each.
      for (let i = 0; i < size; i++) elementType === BOOL_TRUE || elementType === BOOL_FALSE ? c.pos++ : skip(c, elementType);
      return;
    }
    case MAP: {
      const size = c.varint();
      if (size === 0) return;
      const types = c.byte();
      for (let i = 0; i < size; i++) {
        skip(c, types >> 4);
        skip(c, types & 0x0f);
      }
      return;
    }
    case STRUCT:
      for (;;) {
        const header = c.byte();
        if (header === 0) return;
        if (header >> 4 === 0) c.zigzag();
        skip(c, header & 0x0f);
      }
    default:
      throw new Error(`Parquet footer has an unknown Thrift type ${type}`);
  }
}

/** num_rows from the footer of a complete Parquet file. */
export function footerRowCount(file: Uint8Array): number {
  const n = file.length;
  const magic = (at: number) => file[at] === 0x50 && file[at + 1] === 0x41 && file[at + 2] === 0x52 && file[at + 3] === 0x31;
  if (n < 12 || !magic(0) || !magic(n - 4)) throw new Error('not a complete Parquet file (PAR1 magic missing)');
  const length = file[n - 8]! | (file[n - 7]! << 8) | (file[n - 6]! << 16) | (file[n - 5]! * 2 ** 24);
  const c = new Cursor(file, n - 8 - length);
  let field = 0;
  for (;;) {
    const header = c.byte();
    if (header === 0) throw new Error('Parquet footer has no num_rows');
    const delta = header >> 4;
    field = delta === 0 ? c.zigzag() : field + delta;
    const type = header & 0x0f;
    if (field === 3 && type === I64) return c.zigzag();
    skip(c, type);
  }
}
