/** Arrow view of the one schema declaration: the schema every written Parquet file carries. */
import { Bool, Field, Int32, Int64, Schema, TimestampMillisecond, Utf8, type DataType } from 'apache-arrow';
import { ACCESS_LOG_COLUMNS, SCHEMA_VERSION, type ColumnKind } from '../../schemas/accessLog.js';

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
  new Map([['s3logs.schema_version', String(SCHEMA_VERSION)]]),
);
