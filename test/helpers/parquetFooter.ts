/**
 * The column chunks of a Parquet footer as the Thrift says them, read independently of src/stages/footer.ts:
 * for each row group and column, the ColumnMetaData field ids present (parquet.thrift: 12 statistics,
 * 13 encoding_stats, 16 size_statistics …). DuckDB's parquet_metadata() does not show encoding_stats.
 * Also the rows of each data page of a column, from the page headers the footer points to.
 */
export interface ChunkFields {
  readonly rowGroup: number;
  readonly column: string;
  readonly fields: readonly number[];
}

type Value = { fields: Map<number, Value> } | { items: Value[] } | { bytes: Uint8Array } | { scalar: true; int?: number };

/** A Thrift compact-protocol struct read from `bytes` at `start`, reading no byte at or past `limit`; `end`: where it ended. */
function readThrift(bytes: Uint8Array, start: number, limit: number): { value: Value; end: number } {
  let pos = start;
  const byte = (): number => {
    if (pos >= limit) throw new Error('Thrift struct ends early');
    return bytes[pos++]!;
  };
  const varint = (): number => {
    let result = 0;
    for (let factor = 1; ; factor *= 128) {
      const b = byte();
      result += (b & 0x7f) * factor;
      if ((b & 0x80) === 0) return result;
    }
  };
  const read = (type: number): Value => {
    switch (type) {
      case 1:
      case 2:
        return { scalar: true };
      case 3:
        pos++;
        return { scalar: true };
      case 4:
      case 5:
      case 6: {
        const z = varint();
        return { scalar: true, int: z % 2 === 0 ? z / 2 : -(z + 1) / 2 };
      }
      case 7:
        pos += 8;
        return { scalar: true };
      case 8: {
        const size = varint();
        pos += size;
        return { bytes: bytes.subarray(pos - size, pos) };
      }
      case 9:
      case 10: {
        const header = byte();
        const size = header >> 4 === 15 ? varint() : header >> 4;
        const element = header & 0x0f;
        const list: Value[] = [];
        for (let i = 0; i < size; i++) {
          // Booleans in lists take a byte each.
          if (element === 1 || element === 2) {
            pos++;
            list.push({ scalar: true });
          } else list.push(read(element));
        }
        return { items: list };
      }
      case 12: {
        const fields = new Map<number, Value>();
        let id = 0;
        for (;;) {
          const header = byte();
          if (header === 0) return { fields };
          if (header >> 4 === 0) {
            const z = varint();
            id = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
          } else id += header >> 4;
          fields.set(id, read(header & 0x0f));
        }
      }
      default:
        throw new Error(`unexpected Thrift type ${type}`);
    }
  };
  return { value: read(12), end: pos };
}

const field = (v: Value | undefined, id: number): Value | undefined => (v && 'fields' in v ? v.fields.get(id) : undefined);
const items = (v: Value | undefined): Value[] => (v && 'items' in v ? v.items : []);
const int = (v: Value | undefined): number | undefined => (v && 'int' in v ? v.int : undefined);

function fileMetaData(file: Uint8Array): Value {
  const n = file.length;
  const length = file[n - 8]! + file[n - 7]! * 2 ** 8 + file[n - 6]! * 2 ** 16 + file[n - 5]! * 2 ** 24;
  const { value, end } = readThrift(file, n - 8 - length, n - 8);
  if (end !== n - 8) throw new Error('bytes left after FileMetaData');
  return value;
}

function columnName(columnMeta: Value | undefined): string {
  const path = items(field(columnMeta, 3))[0];
  return path && 'bytes' in path ? new TextDecoder().decode(path.bytes) : '?';
}

/**
 * The values (rows, for the flat columns of this schema) of every data page of `column`, per row group,
 * read from the page headers (PageHeader: data_page_header.num_values, or v2's num_rows).
 */
export function dataPageRows(file: Uint8Array, column: string): number[][] {
  const out: number[][] = [];
  for (const group of items(field(fileMetaData(file), 4))) {
    for (const chunk of items(field(group, 1))) {
      const columnMeta = field(chunk, 3);
      if (columnName(columnMeta) !== column) continue;
      // dictionary_page_offset (11) when there is one, else data_page_offset (9); total_compressed_size (7).
      let pos = int(field(columnMeta, 11)) ?? int(field(columnMeta, 9))!;
      const end = pos + int(field(columnMeta, 7))!;
      const pages: number[] = [];
      while (pos < end) {
        const header = readThrift(file, pos, end);
        const v1 = int(field(field(header.value, 5), 1));
        const v2 = int(field(field(header.value, 8), 3));
        if (v1 !== undefined || v2 !== undefined) pages.push((v1 ?? v2)!);
        pos = header.end + int(field(header.value, 3))!;
      }
      out.push(pages);
    }
  }
  return out;
}

export function columnChunkFields(file: Uint8Array): ChunkFields[] {
  const meta = fileMetaData(file);
  const out: ChunkFields[] = [];
  items(field(meta, 4)).forEach((group, rowGroup) => {
    for (const chunk of items(field(group, 1))) {
      const columnMeta = field(chunk, 3);
      out.push({
        rowGroup,
        column: columnName(columnMeta),
        fields: columnMeta && 'fields' in columnMeta ? [...columnMeta.fields.keys()] : [],
      });
    }
  });
  return out;
}
