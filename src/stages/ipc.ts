/**
 * The Arrow IPC stream of a RowBatch, written straight from its column buffers into one reused buffer:
 * the bytes apache-arrow's tableToIPC(toArrowTable(batch), 'stream') (arrowTable.ts) writes (test/ipc.test.ts checks
 * they are identical), without building Arrow vectors, visiting them and concatenating chunks, which
 * measured about as much CPU as parquet-wasm's own copy of the stream. Only the small flatbuffer
 * headers come from apache-arrow (its message encoder).
 */
import { BufferRegion, FieldNode, Message, RecordBatch as RecordBatchHeader } from 'apache-arrow/ipc/metadata/message';
import { ARROW_SCHEMA } from '../schema/arrow.js';
import type { Column } from './columns.js';

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
  schemaMessage ??= framed(Message.encode(Message.from(ARROW_SCHEMA)));
  const nodes: FieldNode[] = [];
  const regions: BufferRegion[] = [];
  const buffers: Uint8Array[] = [];
  let body = 0;
  for (const c of columns) {
    nodes.push(new FieldNode(c.length, c.nulls));
    for (const b of columnBuffers(c)) {
      regions.push(new BufferRegion(body, pad8(b.byteLength)));
      buffers.push(b);
      body += pad8(b.byteLength);
    }
  }
  const header = framed(Message.encode(Message.from(new RecordBatchHeader(length, nodes, regions, null, [], new Map()), body)));
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
