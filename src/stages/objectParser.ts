/**
 * Parse + build + write for a stream of object bodies, either on this thread or spread over worker
 * threads (src/stages/parseWorker.ts). Object i goes to worker i mod N and each worker keeps its own
 * partition buffers, so the files a run writes depend only on the inputs and N, never on timing.
 * Results come back in object order.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LineSpans, parseLogObject } from './parse.js';
import { objectSink, PartitionWriter, rejectLine, type EncodedPartitionFile, type PartitionWriterOptions } from './partition.js';

export interface ParsedObject {
  readonly seq: number;
  readonly lines: number;
  readonly rows: number;
  readonly rejects: number;
  readonly repairedUtf8: number;
  /** The object's reject records as JSON lines. */
  readonly rejectText: string;
}

export interface ParserHandlers {
  /** A Parquet file is ready to be staged. */
  onFile(file: EncodedPartitionFile): Promise<void>;
  /** Called once per object, in submission order. */
  onParsed(result: ParsedObject): void;
}

export interface ObjectParser {
  /** Hands an object over; resolves when there is room for the next one. */
  submit(seq: number, sourceKey: string, body: Uint8Array): Promise<void>;
  /** Writes out everything buffered; resolves when every file was handed to onFile and settled. */
  finish(): Promise<void>;
  close(): Promise<void>;
}

/** Parses one object into a writer: the common step of both parsers. */
export async function parseInto(writer: PartitionWriter, keyDate: string, seq: number, sourceKey: string, body: Uint8Array, spans: LineSpans): Promise<ParsedObject> {
  let rejectText = '';
  const counts = parseLogObject(
    body,
    objectSink(writer, (line, reason, detail, raw) => (rejectText += rejectLine(keyDate, sourceKey, line, reason, detail, raw))),
    spans,
  );
  await writer.flushFull();
  return { seq, ...counts, rejectText };
}

export function inThreadParser(options: PartitionWriterOptions, handlers: ParserHandlers): ObjectParser {
  const writer = new PartitionWriter((file) => handlers.onFile(file), options);
  const spans = new LineSpans();
  return {
    async submit(seq, sourceKey, body) {
      handlers.onParsed(await parseInto(writer, options.keyDate, seq, sourceKey, body, spans));
    },
    finish: () => writer.flushAll(),
    close: async () => undefined,
  };
}

const WORKER_SCRIPT = new URL('./parseWorker.js', import.meta.url);

/** Worker threads need the compiled script; when running from TypeScript sources there is none. */
export function workersAvailable(): boolean {
  return existsSync(fileURLToPath(WORKER_SCRIPT));
}

export type WorkerMessage =
  | ({ type: 'parsed' } & ParsedObject)
  | { type: 'file'; key: string; partition: EncodedPartitionFile['partition']; rows: number; bytes: Uint8Array }
  | { type: 'finished' }
  | { type: 'error'; message: string };

/** Objects queued per worker: enough to keep it busy, few enough to bound memory. */
const QUEUED_PER_WORKER = 2;

export function workerParser(count: number, options: PartitionWriterOptions, handlers: ParserHandlers): ObjectParser {
  let failure: Error | undefined;
  const queued = new Array<number>(count).fill(0);
  const finished = new Array<boolean>(count).fill(false);
  const fileWrites: Array<Promise<void>> = [];
  const results = new Map<number, ParsedObject>();
  let nextResult = 0;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const waitUntil = async (done: () => boolean) => {
    while (!done()) {
      if (failure) throw failure;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    if (failure) throw failure;
  };

  const workers = Array.from({ length: count }, (_, index) => {
    // Each worker names its files apart: part-<keydate>-w2-00000.parquet.
    const workerOptions: PartitionWriterOptions = count === 1 ? options : { ...options, filePrefix: `${options.filePrefix}w${index + 1}-`, memoryBudget: Math.ceil(options.memoryBudget / count) };
    const worker = new Worker(WORKER_SCRIPT, { workerData: workerOptions });
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'file') {
        const write = handlers.onFile({ key: message.key, partition: message.partition, rows: message.rows, bytes: message.bytes });
        write.catch((error: unknown) => (failure ??= error as Error));
        fileWrites.push(write);
      } else if (message.type === 'parsed') {
        queued[index]!--;
        results.set(message.seq, message);
        // Hand results on in object order, whichever worker finished first.
        while (results.has(nextResult)) {
          handlers.onParsed(results.get(nextResult)!);
          results.delete(nextResult++);
        }
      } else if (message.type === 'finished') {
        finished[index] = true;
      } else {
        failure ??= new Error(message.message);
      }
      notify();
    });
    worker.on('error', (error) => {
      failure ??= error;
      notify();
    });
    worker.on('exit', (code) => {
      if (!finished[index]) failure ??= new Error(`parse worker ${index + 1} exited with code ${code}`);
      notify();
    });
    return worker;
  });

  return {
    async submit(seq, sourceKey, body) {
      const index = seq % count;
      await waitUntil(() => queued[index]! < QUEUED_PER_WORKER);
      queued[index]!++;
      // Transfer the body when it owns its buffer (no copy); copy small pooled buffers.
      const own = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body : body.slice();
      workers[index]!.postMessage({ type: 'object', seq, sourceKey, body: own }, [own.buffer as ArrayBuffer]);
    },
    async finish() {
      for (const worker of workers) worker.postMessage({ type: 'finish' });
      await waitUntil(() => finished.every(Boolean));
      await Promise.all(fileWrites);
      if (failure) throw failure;
    },
    async close() {
      for (let i = 0; i < count; i++) finished[i] = true;
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
