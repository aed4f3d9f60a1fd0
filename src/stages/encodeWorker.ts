/** An encode worker: rebuilds a batch from transferred buffers, writes it as Parquet, sends the bytes (and the buffers) back. */
import { parentPort, workerData } from 'node:worker_threads';
import { RowBatch } from './build.js';
import { columnFrom } from './columns.js';
import { transferList, type EncodeReply, type EncodeRequest } from './encoder.js';
import { encodeParquet, type WriteOptions } from './write.js';

const options = workerData as WriteOptions;
const port = parentPort!;

// One file at a time, in arrival order: parquet-wasm's memory is per thread and reused between files.
let chain = Promise.resolve();
port.on('message', (request: EncodeRequest) => {
  chain = chain.then(async () => {
    let reply: EncodeReply;
    const transfer: ArrayBuffer[] = [];
    try {
      const encoded = await encodeParquet(new RowBatch(request.columns.map(columnFrom)), options);
      const bytes =
        encoded.bytes.byteOffset === 0 && encoded.bytes.byteLength === encoded.bytes.buffer.byteLength
          ? encoded.bytes
          : encoded.bytes.slice();
      transfer.push(bytes.buffer as ArrayBuffer, ...transferList(request.columns));
      // The column buffers go back for reuse: nothing here holds them once Parquet is written.
      reply = { id: request.id, rows: encoded.rows, bytes, columns: request.columns };
    } catch (error) {
      reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(reply, transfer);
  });
});
