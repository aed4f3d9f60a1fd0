/**
 * A RowBatch as an apache-arrow Table, sharing the column buffers (no copy). Kept apart from the parsing
 * path: importing apache-arrow costs a process ~0.2 s of CPU, and convert's main thread never needs it
 * (the encoder writes the IPC stream from the buffers, src/stages/ipc.ts). Tests read parsed rows
 * through it, and test/ipc.test.ts checks ipc.ts against apache-arrow's own writer over it.
 */
import { makeData, RecordBatch, Struct, Table, type Data, type DataType } from 'apache-arrow';
import { ARROW_SCHEMA } from '../schema/arrow.js';
import type { RowBatch } from './build.js';
import { validityBytes, type Column } from './columns.js';

/** One column's buffers as Arrow Data of `type`. */
export function columnData(column: Column, type: DataType): Data {
  const length = column.length;
  const nullCount = column.nulls;
  const nullBitmap = nullCount === 0 ? undefined : column.validity.subarray(0, validityBytes(length));
  switch (column.kind) {
    case 'utf8':
      return makeData({
        type,
        length,
        nullCount,
        nullBitmap,
        valueOffsets: column.offsets.subarray(0, length + 1),
        data: column.data.subarray(0, column.bytes),
      } as never);
    case 'int32':
      return makeData({ type, length, nullCount, nullBitmap, data: column.words.subarray(0, length) } as never);
    case 'int64':
      return makeData({ type, length, nullCount, nullBitmap, data: new BigInt64Array(column.data.buffer, 0, length) } as never);
    case 'bool':
      return makeData({ type, length, nullCount, nullBitmap, data: column.data.subarray(0, validityBytes(length)) } as never);
  }
}

export function toArrowTable(batch: RowBatch): Table {
  const children = batch.columns.map((column, i) => columnData(column, ARROW_SCHEMA.fields[i]!.type));
  const struct = makeData({ type: new Struct(ARROW_SCHEMA.fields), length: batch.length, nullCount: 0, children });
  return new Table(ARROW_SCHEMA, [new RecordBatch(ARROW_SCHEMA, struct)]);
}
