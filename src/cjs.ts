/**
 * CommonJS packages are loaded by require. Imported from an ES module, Node first scans a CommonJS file
 * for its export names (cjs-module-lexer), then runs it; require() only runs it. Measured on 2 cores, CPU
 * per process: @aws-sdk/client-s3 and lib-storage 0.28 s by require against 0.45 s by import;
 * parquet-wasm (its Node build is CommonJS) 67–69 ms against 123–144 ms; @duckdb/node-api 144–151 ms
 * against 370–421 ms. Every CLI run pays for what it loads once, so modules take these packages'
 * values through this require and their types from the packages as usual (`import type`).
 */
import { createRequire } from 'node:module';

export const requireCjs = createRequire(import.meta.url);
