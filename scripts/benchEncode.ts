/**
 * The encoder's share alone: re-encodes every Parquet file under a directory (e.g. the s3logs output
 * of `npm run bench`) with s3logs' writer settings (src/stages/write.ts) on one thread, and times only parquet-wasm
 * (IPC in, Parquet out). It bounds what any pipeline built on parquet-wasm can reach.
 *   npm run -s build && node dist/scripts/benchEncode.js .bench/run-512mb-seed1/s3logs
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as pw from 'parquet-wasm';
import { writerProperties } from '../src/stages/write.js';

const SETTINGS = { compression: 'zstd', rowGroupRows: 250_000, createdBy: 'benchEncode' } as const;

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node dist/scripts/benchEncode.js <directory with .parquet files>');
  process.exit(2);
}
const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.parquet')).sort();
const streams: Uint8Array[] = [];
for (const f of files) streams.push(pw.readParquet(await readFile(join(dir, f))).intoIPCStream());

let seconds = 0;
let bytes = 0;
for (const ipc of streams) {
  const started = performance.now();
  bytes += pw.writeParquet(pw.Table.fromIPCStream(ipc), writerProperties(SETTINGS)).length;
  seconds += (performance.now() - started) / 1000;
}
console.log(
  JSON.stringify({
    files: files.length,
    parquetMiB: +(bytes / 1024 / 1024).toFixed(1),
    encodeSeconds: +seconds.toFixed(2),
    node: process.version,
  }),
);
