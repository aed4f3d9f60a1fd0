/**
 * parquet-wasm, loaded by require (its Node build is CommonJS: src/cjs.ts says why) and only where it is
 * called: loading it compiles 5 MB of WebAssembly, with the compiler wasmTier.ts has chosen by then.
 */
import type * as ParquetWasmModule from 'parquet-wasm';
import { requireCjs } from '../cjs.js';

export type ParquetWasm = typeof ParquetWasmModule;

export function loadParquetWasm(): ParquetWasm {
  return requireCjs('parquet-wasm') as ParquetWasm;
}
