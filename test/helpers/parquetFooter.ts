/**
 * The column chunks of a Parquet footer as the Thrift says them, read independently of src/stages/footer.ts:
 * for each row group and column, the ColumnMetaData field ids present (parquet.thrift: 12 statistics,
 * 13 encoding_stats, 16 size_statistics …). DuckDB's parquet_metadata() does not show encoding_stats.
 */
export interface ChunkFields {
  readonly rowGroup: number;
  readonly column: string;
  readonly fields: readonly number[];
}

type Value = { fields: Map<number, Value> } | { items: Value[] } | { bytes: Uint8Array } | { scalar: true };

export function columnChunkFields(file: Uint8Array): ChunkFields[] {
  const n = file.length;
  const length = file[n - 8]! + file[n - 7]! * 2 ** 8 + file[n - 6]! * 2 ** 16 + file[n - 5]! * 2 ** 24;
  let pos = n - 8 - length;
  const byte = (): number => {
    if (pos >= n - 8) throw new Error('footer ends early');
    return file[pos++]!;
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
      case 6:
        varint();
        return { scalar: true };
      case 7:
        pos += 8;
        return { scalar: true };
      case 8: {
        const size = varint();
        pos += size;
        return { bytes: file.subarray(pos - size, pos) };
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
  const meta = read(12);
  if (pos !== n - 8) throw new Error('bytes left after FileMetaData');
  const field = (v: Value | undefined, id: number): Value | undefined => (v && 'fields' in v ? v.fields.get(id) : undefined);
  const items = (v: Value | undefined): Value[] => (v && 'items' in v ? v.items : []);
  const out: ChunkFields[] = [];
  items(field(meta, 4)).forEach((group, rowGroup) => {
    for (const chunk of items(field(group, 1))) {
      const columnMeta = field(chunk, 3);
      const path = items(field(columnMeta, 3))[0];
      const column = path && 'bytes' in path ? new TextDecoder().decode(path.bytes) : '?';
      out.push({ rowGroup, column, fields: columnMeta && 'fields' in columnMeta ? [...columnMeta.fields.keys()] : [] });
    }
  });
  return out;
}
