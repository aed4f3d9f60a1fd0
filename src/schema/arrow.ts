/** Arrow view of the one schema declaration: the schema every written Parquet file carries. */
// apache-arrow's own modules, not its index: the index loads all of Arrow (~0.2 s of CPU), these ~0.08 s,
// and the encoder needs no more (they are the same module instances the index re-exports).
import { Field, Schema } from 'apache-arrow/schema';
import { Bool, Int32, Int64, TimestampMillisecond, Utf8, type DataType } from 'apache-arrow/type';
import { ACCESS_LOG_COLUMNS, SCHEMA_VERSION, SCHEMA_VERSION_KEY, type ColumnKind } from '../../schemas/accessLog.js';

export function arrowType(kind: ColumnKind): DataType {
  switch (kind) {
    case 'string':
      return new Utf8();
    case 'timestamp':
      return new TimestampMillisecond('UTC');
    case 'int32':
      return new Int32();
    case 'int64':
      return new Int64();
    case 'bool':
      return new Bool();
  }
}

export const ARROW_SCHEMA = new Schema(
  ACCESS_LOG_COLUMNS.map((c) => new Field(c.name, arrowType(c.kind), true)),
  new Map([[SCHEMA_VERSION_KEY, String(SCHEMA_VERSION)]]),
);
