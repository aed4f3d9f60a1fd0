/**
 * The row count in a Parquet file's footer (FileMetaData.num_rows, Thrift compact protocol), read
 * straight from the bytes: an independent check of what the writer produced, without handing the file
 * back to the library that wrote it or copying it. And one edit of the footer (slimFooter) that the
 * writer has no setting for.
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

// ---- slimming the footer: ColumnMetaData.encoding_stats and size_statistics ---------------------------

/** A field of a Thrift struct: its id, its compact type and the bytes of its value (no header). */
interface RawField {
  readonly id: number;
  readonly type: number;
  readonly value: Uint8Array;
}

function readStruct(c: Cursor): RawField[] {
  const fields: RawField[] = [];
  let id = 0;
  for (;;) {
    const header = c.byte();
    if (header === 0) return fields;
    id = header >> 4 === 0 ? c.zigzag() : id + (header >> 4);
    const type = header & 0x0f;
    const start = c.pos;
    skip(c, type);
    if (c.pos > c.bytes.length) throw new Error('Parquet footer ends early');
    fields.push({ id, type, value: c.bytes.subarray(start, c.pos) });
  }
}

/** A list of structs (the value of a LIST field whose elements are structs). */
function readStructList(value: Uint8Array): RawField[][] {
  const c = new Cursor(value, 0);
  const header = c.byte();
  const size = header >> 4 === 15 ? c.varint() : header >> 4;
  if ((header & 0x0f) !== STRUCT) throw new Error('Parquet footer: expected a list of structs');
  return Array.from({ length: size }, () => readStruct(c));
}

class Out {
  private readonly bytes: number[] = [];
  byte(b: number): void {
    this.bytes.push(b);
  }
  varint(n: number): void {
    while (n >= 0x80) {
      this.bytes.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.bytes.push(n);
  }
  raw(value: Uint8Array): void {
    for (const b of value) this.bytes.push(b);
  }
  struct(fields: readonly RawField[]): void {
    let last = 0;
    for (const f of fields) {
      const delta = f.id - last;
      if (delta > 0 && delta <= 15) this.byte((delta << 4) | f.type);
      else {
        this.byte(f.type);
        this.varint(f.id >= 0 ? f.id * 2 : -f.id * 2 - 1);
      }
      last = f.id;
      this.raw(f.value);
    }
    this.byte(0);
  }
  structList(items: readonly RawField[][]): void {
    if (items.length < 15) this.byte((items.length << 4) | STRUCT);
    else {
      this.byte(0xf0 | STRUCT);
      this.varint(items.length);
    }
    for (const item of items) this.struct(item);
  }
  take(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** A field with its value replaced by what `edit` writes. */
function rewritten(field: RawField, edit: (out: Out) => void): RawField {
  const out = new Out();
  edit(out);
  return { id: field.id, type: field.type, value: out.take() };
}

// Field ids of parquet.thrift.
const FILE_ROW_GROUPS = 4;
const ROW_GROUP_COLUMNS = 1;
const COLUMN_CHUNK_META_DATA = 3;
const COLUMN_META_DATA_PATH = 3;
const COLUMN_META_DATA_ENCODING_STATS = 13;
const COLUMN_META_DATA_SIZE_STATISTICS = 16;

/** The first element of ColumnMetaData.path_in_schema: the column's name in a flat schema. */
function columnName(fields: readonly RawField[]): string {
  const path = fields.find((f) => f.id === COLUMN_META_DATA_PATH && f.type === LIST);
  if (!path) throw new Error('Parquet footer: a column chunk has no path_in_schema');
  const c = new Cursor(path.value, 0);
  const header = c.byte();
  const size = header >> 4 === 15 ? c.varint() : header >> 4;
  if (size < 1 || (header & 0x0f) !== BINARY) throw new Error('Parquet footer: path_in_schema is not a list of strings');
  const length = c.varint();
  return new TextDecoder().decode(path.value.subarray(c.pos, c.pos + length));
}

/**
 * The file with two optional fields of ColumnMetaData (parquet.thrift) left out of its footer:
 * encoding_stats (how many pages of each kind and encoding a chunk has) except on the columns
 * `keepEncodingStats` names, and size_statistics (the chunk's unencoded string bytes). Everything else
 * in the footer is copied as it is, the page index included, and no data page changes. parquet-wasm
 * (arrow-rs) writes both with no setting to leave them out; no reader needs them, and DuckDB parses
 * them in the footer of every file a query opens (callgrind, a compacted file of the query bench:
 * ~0.1 M of the ~1.3 M instructions DuckDB spends opening it; docs/benchmark.md#query). Engines that
 * use encoding_stats (Presto/Trino, so Athena: may a chunk be filtered by its dictionary?) do so for
 * columns with predicates: keep those.
 *
 * The footer is rewritten in place (the new one is never longer: a dropped field takes at least two
 * bytes, a header that grows because of it at most two more): the result is a view of `file`'s memory,
 * which the caller must own. A file with nothing to drop is returned as it is.
 */
export function slimFooter(file: Uint8Array, keepEncodingStats: ReadonlySet<string>): Uint8Array {
  const n = file.length;
  footerRowCount(file); // checks the magic and that the footer parses up to num_rows
  const length = file[n - 8]! | (file[n - 7]! << 8) | (file[n - 6]! << 16) | (file[n - 5]! * 2 ** 24);
  const start = n - 8 - length;
  const footer = file.slice(start, n - 8);
  const c = new Cursor(footer, 0);
  const fileMeta = readStruct(c);
  if (c.pos !== footer.length) throw new Error('Parquet footer: bytes after FileMetaData');
  let dropped = 0;
  const slimColumn = (meta: RawField[]): RawField[] => {
    const keep = keepEncodingStats.has(columnName(meta));
    const kept = meta.filter((f) => f.id !== COLUMN_META_DATA_SIZE_STATISTICS && (keep || f.id !== COLUMN_META_DATA_ENCODING_STATS));
    dropped += meta.length - kept.length;
    return kept;
  };
  const slim = fileMeta.map((f) =>
    f.id !== FILE_ROW_GROUPS || f.type !== LIST
      ? f
      : rewritten(f, (out) =>
          out.structList(
            readStructList(f.value).map((group) =>
              group.map((g) =>
                g.id !== ROW_GROUP_COLUMNS || g.type !== LIST
                  ? g
                  : rewritten(g, (o) =>
                      o.structList(
                        readStructList(g.value).map((chunk) =>
                          chunk.map((m) =>
                            m.id === COLUMN_CHUNK_META_DATA && m.type === STRUCT
                              ? rewritten(m, (x) => x.struct(slimColumn(readStruct(new Cursor(m.value, 0)))))
                              : m,
                          ),
                        ),
                      ),
                    ),
              ),
            ),
          ),
        ),
  );
  if (dropped === 0) return file;
  const out = new Out();
  out.struct(slim);
  const next = out.take();
  if (next.length > length) throw new Error('Parquet footer: the rewritten footer is longer than the original');
  file.set(next, start);
  const end = start + next.length;
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  view.setUint32(end, next.length, true);
  file.set([0x50, 0x41, 0x52, 0x31], end + 4);
  return file.subarray(0, end + 8);
}
