/**
 * The Arrow IPC stream of a RowBatch, written straight from its column buffers into one reused buffer:
 * the bytes apache-arrow's tableToIPC(toArrowTable(batch), 'stream') (arrowTable.ts) writes (test/ipc.test.ts checks
 * they are identical), without building Arrow vectors, visiting them and concatenating chunks, which
 * measured about as much CPU as parquet-wasm's own copy of the stream. The two small flatbuffer headers
 * (the schema and the record batch's buffer layout) are built here with the flatbuffers library, in the
 * order apache-arrow's message encoder builds them: loading that encoder costs a process ~0.12 s of CPU
 * (apache-arrow's schema, type and visitor modules), more than encoding a small key date.
 */
import type * as Flatbuffers from 'flatbuffers';
import { ACCESS_LOG_COLUMNS, SCHEMA_VERSION, SCHEMA_VERSION_KEY, type ColumnKind } from '../../schemas/accessLog.js';
import { requireCjs } from '../cjs.js';
import type { Column } from './columns.js';

const { Builder } = requireCjs('flatbuffers') as typeof Flatbuffers;
type Builder = Flatbuffers.Builder;

// Arrow's flatbuffer enums (format/Schema.fbs, format/Message.fbs).
const METADATA_V5 = 4;
const HEADER_SCHEMA = 1;
const HEADER_RECORD_BATCH = 3;
const TYPE_INT = 2;
const TYPE_UTF8 = 5;
const TYPE_BOOL = 6;
const TYPE_TIMESTAMP = 10;
const MILLISECOND = 1;
const LITTLE_ENDIAN = 0;

/**
 * The Arrow type of a schema kind, as src/schema/arrow.ts declares it (test/ipc.test.ts fails when the two
 * disagree): its type id and table.
 */
function encodeType(b: Builder, kind: ColumnKind): [typeId: number, offset: number] {
  switch (kind) {
    case 'string':
      b.startObject(0);
      return [TYPE_UTF8, b.endObject()];
    case 'bool':
      b.startObject(0);
      return [TYPE_BOOL, b.endObject()];
    case 'int32':
    case 'int64':
      b.startObject(2);
      b.addFieldInt32(0, kind === 'int32' ? 32 : 64, 0);
      b.addFieldInt8(1, 1, 0);
      return [TYPE_INT, b.endObject()];
    case 'timestamp': {
      const timezone = b.createString('UTC');
      b.startObject(2);
      b.addFieldInt16(0, MILLISECOND, 0);
      b.addFieldOffset(1, timezone, 0);
      return [TYPE_TIMESTAMP, b.endObject()];
    }
  }
}

function offsetVector(b: Builder, offsets: readonly number[]): number {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]!);
  return b.endVector();
}

/** A Message table around `header`, finished: the flatbuffer of one IPC message. */
function finishMessage(b: Builder, headerType: number, header: number, bodyLength: number): Uint8Array {
  b.startObject(5);
  b.addFieldInt16(0, METADATA_V5, 0);
  b.addFieldOffset(2, header, 0);
  b.addFieldInt8(1, headerType, 0);
  b.addFieldInt64(3, BigInt(bodyLength), 0n);
  b.finish(b.endObject());
  return b.asUint8Array();
}

/** The schema message: every column nullable, the schema version as the schema's metadata. */
function schemaFlatbuffer(): Uint8Array {
  const b = new Builder();
  const fields = ACCESS_LOG_COLUMNS.map((column) => {
    const [typeId, type] = encodeType(b, column.kind);
    const children = offsetVector(b, []);
    const name = b.createString(column.name);
    b.startObject(7);
    b.addFieldOffset(3, type, 0);
    b.addFieldInt8(2, typeId, 0);
    b.addFieldOffset(5, children, 0);
    b.addFieldInt8(1, 1, 0);
    b.addFieldOffset(0, name, 0);
    return b.endObject();
  });
  const fieldVector = offsetVector(b, fields);
  const key = b.createString(SCHEMA_VERSION_KEY);
  const value = b.createString(String(SCHEMA_VERSION));
  b.startObject(2);
  b.addFieldOffset(0, key, 0);
  b.addFieldOffset(1, value, 0);
  const metadata = offsetVector(b, [b.endObject()]);
  b.startObject(4);
  b.addFieldOffset(1, fieldVector, 0);
  b.addFieldInt16(0, LITTLE_ENDIAN, 0);
  b.addFieldOffset(2, metadata, 0);
  return finishMessage(b, HEADER_SCHEMA, b.endObject(), 0);
}

/** A vector of 16-byte structs of two int64 fields, from `pairs` (first, second, first, second, …). */
function structVector(b: Builder, pairs: readonly number[]): number {
  // Written back to front, each struct's second field first.
  b.startVector(16, pairs.length / 2, 8);
  for (let i = pairs.length - 2; i >= 0; i -= 2) {
    b.prep(8, 16);
    b.writeInt64(BigInt(pairs[i + 1]!));
    b.writeInt64(BigInt(pairs[i]!));
  }
  return b.endVector();
}

/** A record batch message: `nodes` (length, null count) per column, `regions` (offset, length) per buffer. */
function recordBatchFlatbuffer(length: number, nodes: readonly number[], regions: readonly number[], bodyLength: number): Uint8Array {
  const b = new Builder();
  const nodeVector = structVector(b, nodes);
  const regionVector = structVector(b, regions);
  b.startObject(5);
  b.addFieldInt64(0, BigInt(length), 0n);
  b.addFieldOffset(1, nodeVector, 0);
  b.addFieldOffset(2, regionVector, 0);
  return finishMessage(b, HEADER_RECORD_BATCH, b.endObject(), bodyLength);
}

const pad8 = (n: number): number => (n + 7) & ~7;

/** Continuation marker, length, flatbuffer, padding to 8 (apache-arrow's _writeMessage). */
function framed(flatbuffer: Uint8Array): Uint8Array {
  const aligned = pad8(flatbuffer.byteLength + 8);
  const out = new Uint8Array(aligned);
  const view = new DataView(out.buffer);
  view.setInt32(0, -1, true);
  view.setInt32(4, aligned - 8, true);
  out.set(flatbuffer, 8);
  return out;
}

let schemaMessage: Uint8Array | undefined;

/** The buffers of one column in IPC order, as apache-arrow's VectorAssembler lays them out. */
function columnBuffers(c: Column): Uint8Array[] {
  const length = c.length;
  const bitmapBytes = (length + 7) >> 3;
  const validity = c.nulls > 0 ? c.validity.subarray(0, bitmapBytes) : new Uint8Array(0);
  switch (c.kind) {
    case 'utf8':
      return [validity, new Uint8Array(c.offsets.buffer, c.offsets.byteOffset, (length + 1) * 4), c.data.subarray(0, c.bytes)];
    case 'int32':
      return [validity, c.data.subarray(0, length * 4)];
    case 'int64':
      return [validity, c.data.subarray(0, length * 8)];
    case 'bool':
      // All null: zero bits, which is what the values of null rows are.
      return [validity, c.data.subarray(0, bitmapBytes)];
  }
}

/**
 * Writes the stream into `scratch` when it fits (else a new, larger buffer) and returns the bytes. The
 * caller may reuse `scratch` (or the returned buffer) once the stream has been read.
 */
export function ipcStream(columns: readonly Column[], length: number, scratch?: Uint8Array): Uint8Array {
  schemaMessage ??= framed(schemaFlatbuffer());
  const nodes: number[] = [];
  const regions: number[] = [];
  const buffers: Uint8Array[] = [];
  let body = 0;
  for (const c of columns) {
    nodes.push(c.length, c.nulls);
    for (const b of columnBuffers(c)) {
      regions.push(body, pad8(b.byteLength));
      buffers.push(b);
      body += pad8(b.byteLength);
    }
  }
  const header = framed(recordBatchFlatbuffer(length, nodes, regions, body));
  const total = schemaMessage.byteLength + header.byteLength + body + 8;
  const out = scratch !== undefined && scratch.byteLength >= total ? scratch.subarray(0, total) : new Uint8Array(total);
  out.set(schemaMessage, 0);
  let at = schemaMessage.byteLength;
  out.set(header, at);
  at += header.byteLength;
  for (const b of buffers) {
    out.set(b, at);
    const padded = pad8(b.byteLength);
    // A reused buffer holds the last file's bytes: padding must be zero as written by apache-arrow.
    if (padded > b.byteLength) out.fill(0, at + b.byteLength, at + padded);
    at += padded;
  }
  // End of stream: continuation marker and a zero length.
  new DataView(out.buffer, out.byteOffset + at, 8).setInt32(0, -1, true);
  new DataView(out.buffer, out.byteOffset + at, 8).setInt32(4, 0, true);
  return out;
}
