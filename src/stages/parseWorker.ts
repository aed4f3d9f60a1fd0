/**
 * A parse worker: parses the objects it is given into its own partition buffers, writes Parquet files
 * when buffers fill, and sends files (transferred, not copied) and per-object counts back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parseInto, type WorkerMessage } from './objectParser.js';
import { LineSpans } from './parse.js';
import { PartitionWriter, type PartitionWriterOptions } from './partition.js';

const options = workerData as PartitionWriterOptions;
const port = parentPort!;
const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

const writer = new PartitionWriter(async (file) => {
  const own = file.bytes.byteOffset === 0 && file.bytes.byteLength === file.bytes.buffer.byteLength ? file.bytes : file.bytes.slice();
  post({ type: 'file', key: file.key, partition: file.partition, rows: file.rows, bytes: own }, [own.buffer as ArrayBuffer]);
}, options);
const spans = new LineSpans();

// Messages are handled one at a time, in arrival order: objects stay in the order main sent them.
let chain = Promise.resolve();
port.on('message', (message: { type: 'object'; seq: number; sourceKey: string; body: Uint8Array } | { type: 'finish' }) => {
  chain = chain.then(async () => {
    try {
      if (message.type === 'object') {
        post({ type: 'parsed', ...(await parseInto(writer, options.keyDate, message.seq, message.sourceKey, message.body, spans)) });
      } else {
        await writer.flushAll();
        post({ type: 'finished' });
      }
    } catch (error) {
      post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  });
});
