/**
 * Which V8 compiler tier parquet-wasm's code runs on. V8 compiles the 5 MB module with its baseline
 * compiler (Liftoff) when it loads, then recompiles hot functions with its optimizing compiler
 * (TurboFan) on background threads. That recompilation costs about 0.45 CPU seconds, and a process that
 * ends soon after waits for it to finish. Measured on 2 cores:
 * - A 0.2 MiB key date took 0.9 CPU s with baseline code only, against 1.4–1.5 CPU s.
 * - Encoding 16 MiB of raw logs took 0.76 against 1.06 CPU s.
 * - Encoding 32 MiB: 1.35 against 1.58 CPU s, in the same wall time; compacting 33 MiB of Parquet took
 *   the same CPU either way.
 * - At 160 MiB the optimized code finished 15% sooner, for about the same CPU.
 * So a run known to be small keeps baseline code, and any other run lets V8 optimize.
 *
 * The choice is a process-wide V8 flag, read when a module is compiled: set it before the run's first
 * import of parquet-wasm (on this thread or in a new encode worker). A module compiled earlier in the
 * same process (a previous key date of a backfill) keeps the tier it was compiled with; that changes
 * speed, never bytes.
 */
import { setFlagsFromString } from 'node:v8';
import { SMALL_RUN_BYTES } from './smallRun.js';

export type WasmTier = 'baseline' | 'optimizing';

let current: WasmTier = 'optimizing';

/** V8 versions known to have the flag (Node 20–24); on others the default tier stays and nothing is printed. */
const FLAG_KNOWN = (() => {
  const major = Number(process.versions.v8.split('.')[0]);
  return major >= 9 && major <= 13;
})();

/** The tier for a run of `bytes` (raw logs to parse, or Parquet to rewrite); undefined: not known yet. */
export function wasmTierFor(bytes: number | undefined): WasmTier {
  return bytes !== undefined && bytes < SMALL_RUN_BYTES ? 'baseline' : 'optimizing';
}

/** Makes parquet-wasm compiled from now on (this process, every thread) use `tier`. */
export function useWasmTier(tier: WasmTier): WasmTier {
  if (tier !== current && FLAG_KNOWN) {
    setFlagsFromString(tier === 'baseline' ? '--liftoff-only' : '--no-liftoff-only');
    current = tier;
  }
  return current;
}

/** The tier set last (what a module compiled now would use). */
export function wasmTier(): WasmTier {
  return current;
}
