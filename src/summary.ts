/**
 * What a key date's run reports: counts that reconcile (lines = rows + rejects), what was published,
 * what the lake kept for objects gone from the source, and on failure where, why, and the fix.
 */
import { errorCode, errorMessage, KeyDateError, type ErrorCode, type Stage } from './errors.js';
import type { KeyDateCounts } from './records.js';
import type { ParseCounts } from './stages/parse.js';
import type { WasmTier } from './stages/wasmTier.js';

export type KeyDateStatus = 'converted' | 'unchanged' | 'empty' | 'staged' | 'failed' | 'planned';

export { errorCode, type ErrorCode } from './errors.js';

export interface KeyDateSummary extends KeyDateCounts {
  keyDate: string;
  /**
   * converted (published); unchanged (skipped: the lake already holds these inputs); empty (no objects
   * and nothing in the lake); staged (a shard waiting for the others); failed; planned (--dry-run).
   */
  status: KeyDateStatus;
  /** Bytes parsed: bytesIn (as stored) after gzip and zstd objects were decompressed. */
  bytesParsed: number;
  /** Objects that were stored compressed, by format. */
  compressedObjects: { gzip: number; zstd: number };
  /** What the listing found for the key date (a shard: the whole key date); the counts above are what was read. */
  listed: { objects: number; bytes: number };
  filesWritten: number;
  /** Worker threads that encoded this run's files (0: the main thread did; see --workers). */
  encodeWorkers: number;
  /** The V8 compiler tier parquet-wasm ran on: baseline for a run known to be small (src/stages/wasmTier.ts). */
  wasmTier: WasmTier;
  bytesOut: number;
  partitions: number;
  rejectFiles: string[];
  staleFilesDeleted: number;
  /** Files rewritten to keep the rows of objects this run did not read (gone from the source, other sources). */
  carriedFiles: number;
  /** Objects of this key date the lake holds rows of that the source no longer lists, and what became of them. */
  gone: { objects: number; rows: number; removed: boolean };
  /** Readers can see this run's files: the publish began (a failure after it is finished by the next run). */
  published: boolean;
  /** How long readers could see old and new copies of re-read objects' rows (first move → last old file deleted). */
  publishWindowSeconds: number;
  /** The catalog does not list the published state yet (registration failed). */
  catalogBehind: boolean;
  /** --dry-run: what a run would do. */
  plan?: { layouts: string[]; newOrChanged: number; held: number };
  /** One more thing the reader should know (who published a round this run found done). */
  note?: string;
  /** Shards (1-based) that have not staged their part yet (status staged). */
  waitingFor?: number[];
  catalog: { created: number; updated: number; unchanged: number; removed: number };
  seconds: number;
  /** Where the time went, per stage (fetch = waiting for object bodies). */
  stageSeconds: Partial<Record<Stage, number>>;
  error?: { stage: Stage; code: ErrorCode; message: string };
}

export type ProgressEvent =
  | { type: 'listed'; keyDate: string; objects: number; bytes: number }
  /** total: objects listed so far; listing: more may follow (the listing is still going on). */
  | {
      type: 'object';
      keyDate: string;
      done: number;
      total: number;
      listing: boolean;
      bytes: number;
      rows: number;
      objectKey: string;
      object: ParseCounts;
    }
  | { type: 'committed'; keyDate: string };

export function newSummary(keyDate: string): KeyDateSummary {
  return {
    keyDate,
    status: 'converted',
    objects: 0,
    bytesIn: 0,
    lines: 0,
    rows: 0,
    rejects: 0,
    repairedUtf8: 0,
    bytesParsed: 0,
    compressedObjects: { gzip: 0, zstd: 0 },
    listed: { objects: 0, bytes: 0 },
    filesWritten: 0,
    encodeWorkers: 0,
    wasmTier: 'optimizing',
    bytesOut: 0,
    partitions: 0,
    rejectFiles: [],
    staleFilesDeleted: 0,
    carriedFiles: 0,
    gone: { objects: 0, rows: 0, removed: false },
    published: false,
    publishWindowSeconds: 0,
    catalogBehind: false,
    catalog: { created: 0, updated: 0, unchanged: 0, removed: 0 },
    seconds: 0,
    stageSeconds: {},
  };
}

/** @param stage where the run was; a KeyDateError says where the problem is itself. */
export function failSummary(summary: KeyDateSummary, stage: Stage, error: unknown): void {
  summary.status = 'failed';
  summary.error = { stage: error instanceof KeyDateError ? error.stage : stage, code: errorCode(error), message: errorMessage(error) };
}
