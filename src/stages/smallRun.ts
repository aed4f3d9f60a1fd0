/**
 * What counts as a small run: less raw log than this (a key date, or a shard's part), or for compaction
 * less Parquet. Its own module so that the stages deciding by it do not load the flag parsing of
 * config.ts. Two choices follow from it:
 * - Without --workers, a small key date encodes on the main thread: its few files take less time than
 *   starting a worker thread does (measured on 2 cores: a 190 KB key date took 0.2 s less CPU and
 *   0.3-1 s less wall time).
 * - parquet-wasm keeps V8's baseline code (src/stages/wasmTier.ts).
 */
export const SMALL_RUN_BYTES = 32 * 1024 * 1024;
