/**
 * Encoding Parquet (Arrow IPC, parquet-wasm) is the heavier half of the work, so it runs on
 * worker threads (src/stages/encodeWorker.ts) while the main thread keeps parsing. A batch's column
 * buffers are transferred, not copied; the Parquet bytes come back the same way, and so do the column
 * buffers, which the parsing thread reuses for its next files (BufferPool). Files and their
 * names are decided by the main thread, so the output is the same whatever the number of workers.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RowBatch } from './build.js';
import { releaseState, type BufferPool, type ColumnState } from './columns.js';
import type { EncodedFile, WriteOptions } from './writeOptions.js';

export interface Encoder {
  encode(batch: RowBatch): Promise<EncodedFile>;
  close(): Promise<void>;
}

export function inThreadEncoder(options: WriteOptions): Encoder {
  // Loaded on first use: with encode workers, the main thread never compiles parquet-wasm.
  return {
    async encode(batch) {
      const encoded = await (await import('./write.js')).encodeParquet(batch, options);
      // Parquet holds its own copy now: the column buffers go back to the pool for the next file.
      batch.release();
      return encoded;
    },
    close: async () => undefined,
  };
}

const WORKER_SCRIPT = new URL('./encodeWorker.js', import.meta.url);

/** Worker threads need the compiled script; when running from TypeScript sources there is none. */
export function workersAvailable(): boolean {
  return existsSync(fileURLToPath(WORKER_SCRIPT));
}

/**
 * An encoder chosen when the first file is ready, not before: by then a small run's listing is complete,
 * and encoding its few files on the main thread costs less than starting a worker (loading the modules
 * and compiling parquet-wasm again: ~0.3 s of CPU and more of wall time per run, measured on 2 cores).
 */
export function deferredEncoder(choose: () => Encoder): Encoder {
  let chosen: Encoder | undefined;
  return {
    encode(batch) {
      chosen ??= choose();
      return chosen.encode(batch);
    },
    async close() {
      await chosen?.close();
    },
  };
}

export interface EncodeRequest {
  readonly id: number;
  readonly columns: ColumnState[];
}

/** A file's bytes, and the request's column buffers handed back (transferred) for the next files. */
export type EncodeReply = { id: number; rows: number; bytes: Uint8Array; columns: ColumnState[] } | { id: number; error: string };

export function transferList(columns: ColumnState[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const c of columns) {
    for (const view of [c.validity, c.values, c.offsets]) if (view) buffers.add(view.buffer as ArrayBuffer);
  }
  return [...buffers];
}

export function workerEncoder(count: number, options: WriteOptions): Encoder {
  const pending = new Map<number, { resolve: (file: EncodedFile) => void; reject: (error: Error) => void; pool: BufferPool }>();
  const load = new Array<number>(count).fill(0);
  let nextId = 0;
  let failure: Error | undefined;
  const fail = (error: Error) => {
    failure ??= error;
    for (const p of pending.values()) p.reject(failure);
    pending.clear();
  };
  const workers = Array.from({ length: count }, (_, index) => {
    const worker = new Worker(WORKER_SCRIPT, { workerData: options });
    worker.on('message', (reply: EncodeReply) => {
      load[index]!--;
      const waiter = pending.get(reply.id);
      pending.delete(reply.id);
      if ('error' in reply) waiter?.reject(new Error(reply.error));
      else {
        if (waiter) for (const state of reply.columns) releaseState(state, waiter.pool);
        waiter?.resolve({ rows: reply.rows, bytes: reply.bytes });
      }
    });
    worker.on('error', (error) => fail(error));
    worker.on('exit', (code) => {
      if (code !== 0) fail(new Error(`Parquet encode worker ${index + 1} exited with code ${code}`));
    });
    return worker;
  });
  return {
    encode(batch) {
      if (failure) return Promise.reject(failure);
      // The least busy worker: which one encodes a file does not change its bytes.
      const index = load.indexOf(Math.min(...load));
      load[index]!++;
      const id = nextId++;
      const columns = batch.columns.map((c) => c.state());
      const pool = batch.columns[0]!.pool;
      return new Promise<EncodedFile>((resolve, reject) => {
        pending.set(id, { resolve, reject, pool });
        workers[index]!.postMessage({ id, columns } satisfies EncodeRequest, transferList(columns));
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
