/** `s3logs convert`: one key date or a range, with a human summary on stderr and --json on stdout. */
import { parseConvertConfig, type ConvertConfig } from '../config.js';
import { errorMessage } from '../errors.js';
import { checkOverlap, openDest, openSource, parseLocation, type StoreOptions } from '../locations.js';
import { createControlS3Client } from '../setup/clients.js';
import { tagConverted } from '../setup/tagging.js';
import { readManifest } from '../stages/commit.js';
import pLimit from 'p-limit';
import { convertKeyDate, newSummary, type ConvertSettings, type KeyDateSummary, type ProgressEvent } from '../pipeline.js';
import { withShutdownSignals } from '../signals.js';
import { openCatalog } from './stores.js';

export interface RunSummary {
  ok: boolean;
  keyDates: KeyDateSummary[];
  failedKeyDates: string[];
  objects: number;
  bytesIn: number;
  lines: number;
  rows: number;
  rejects: number;
  repairedUtf8: number;
  filesWritten: number;
  bytesOut: number;
  partitions: number;
  retries: number;
  seconds: number;
}

export async function runConvert(argv: string[]): Promise<number> {
  const config = parseConvertConfig(argv);
  if (!config.allowOverlap) checkOverlap(config.source, config.dest);
  return withShutdownSignals(async (signal) => {
    const summary = await convert(config, config.quiet || config.json ? undefined : progressPrinter(), { signal });
    if (config.json) process.stdout.write(JSON.stringify(summary) + '\n');
    if (!config.quiet) process.stderr.write(formatSummary(summary, config));
    return summary.ok ? 0 : 1;
  });
}

export interface ConvertRunOptions {
  /** Skip key dates already converted with the same inputs and schema version (jobs). */
  readonly skipUnchanged?: boolean;
  readonly signal?: AbortSignal;
  /** Key dates converted at the same time (each is bounded in memory on its own). */
  readonly parallelDates?: number;
  /** Called as each key date ends. */
  readonly onKeyDate?: (summary: KeyDateSummary) => void;
}

/** Opens the stores and catalog a run needs; `close` releases their sockets. */
export async function openRun(
  config: ConvertConfig,
  options: ConvertRunOptions = {},
  onProgress?: (event: ProgressEvent) => void,
): Promise<{ settings: ConvertSettings; close: () => Promise<void> }> {
  const stores: StoreOptions = {
    aws: config.aws,
    ...(config.sse ? { sse: config.sse } : {}),
    ...(config.sseKmsKeyId ? { sseKmsKeyId: config.sseKmsKeyId } : {}),
    ...(config.multipartThreshold ? { multipartThreshold: config.multipartThreshold } : {}),
    ...(config.partSize ? { partSize: config.partSize } : {}),
  };
  const source = await openSource(config.source, stores);
  const dest = await openDest(config.dest, stores);
  const close = async () => {
    await source.storage.close?.();
    await dest.close?.();
  };
  try {
    const catalog = await openCatalog(config.catalog, dest, {
      ...(config.database ? { database: config.database } : {}),
      ...(config.table ? { table: config.table } : {}),
      projection: config.projection,
      aws: config.aws,
    });
    const settings: ConvertSettings = {
      source,
      dest,
      catalog,
      ...(config.database ? { database: config.database } : {}),
      ...(config.table ? { table: config.table } : {}),
      layout: config.layout,
      concurrency: config.concurrency,
      workers: config.workers,
      compression: config.compression,
      memoryBudget: config.memoryBudget,
      maxFileRows: config.maxFileRows,
      maxFileBytes: config.maxFileBytes,
      rowGroupRows: config.rowGroupRows,
      ...(config.shard ? { shard: config.shard } : {}),
      ...(options.skipUnchanged ? { skipUnchanged: true } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(onProgress ? { onProgress } : {}),
    };
    return { settings, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export async function convert(config: ConvertConfig, onProgress?: (event: ProgressEvent) => void, options: ConvertRunOptions = {}): Promise<RunSummary> {
  const started = performance.now();
  const { settings, close } = await openRun(config, options, onProgress);
  try {
    const results = new Map<string, KeyDateSummary>();
    const limit = pLimit(options.parallelDates ?? 1);
    await Promise.all(
      config.keyDates.map((keyDate) =>
        limit(async () => {
          // Stop taking new key dates once interrupted; the ones not started are reported as failed.
          const summary = options.signal?.aborted ? interruptedSummary(keyDate) : await convertKeyDate(settings, keyDate);
          if (config.tagConverted && (summary.status === 'converted' || summary.status === 'unchanged')) await tagKeyDate(config, settings, summary);
          results.set(keyDate, summary);
          options.onKeyDate?.(summary);
        }),
      ),
    );
    return summarize(config.keyDates.map((d) => results.get(d)!), settings, started);
  } finally {
    await close();
  }
}

/** Marks the committed key date's raw objects as converted; a tagging failure fails the key date (it is retried next run). */
async function tagKeyDate(config: ConvertConfig, settings: ConvertSettings, summary: KeyDateSummary): Promise<void> {
  try {
    const manifest = await readManifest(settings.dest, summary.keyDate);
    const location = parseLocation(config.source, '--source');
    if (!manifest || location.kind !== 's3') return;
    const client = createControlS3Client(config.aws);
    try {
      await tagConverted(client, location.bucket, manifest.objects.map((o) => o.key), {
        concurrency: config.concurrency,
        ...(config.aws.expectedBucketOwner ? { expectedBucketOwner: config.aws.expectedBucketOwner } : {}),
      });
    } finally {
      client.destroy();
    }
  } catch (error) {
    summary.status = 'failed';
    summary.error = { stage: 'commit', message: `committed, but tagging the raw objects as converted failed: ${errorMessage(error)}` };
  }
}

function interruptedSummary(keyDate: string): KeyDateSummary {
  return { ...newSummary(keyDate), status: 'failed', error: { stage: 'list', message: 'not started: the run was interrupted' } };
}

export function summarize(keyDates: KeyDateSummary[], settings: Pick<ConvertSettings, 'source' | 'dest'>, started: number): RunSummary {
  const sum = (pick: (s: KeyDateSummary) => number) => keyDates.reduce((total, s) => total + pick(s), 0);
  const retries = (settings.source.storage.stats?.().retries ?? 0) + (settings.dest.stats?.().retries ?? 0);
  const failed = keyDates.filter((s) => s.status === 'failed').map((s) => s.keyDate);
  return {
    ok: failed.length === 0,
    keyDates,
    failedKeyDates: failed,
    objects: sum((s) => s.objects),
    bytesIn: sum((s) => s.bytesIn),
    lines: sum((s) => s.lines),
    rows: sum((s) => s.rows),
    rejects: sum((s) => s.rejects),
    repairedUtf8: sum((s) => s.repairedUtf8),
    filesWritten: sum((s) => s.filesWritten),
    bytesOut: sum((s) => s.bytesOut),
    partitions: sum((s) => s.partitions),
    retries,
    seconds: (performance.now() - started) / 1000,
  };
}

function progressPrinter(): ((event: ProgressEvent) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return (event) => {
    const now = performance.now();
    if (event.type === 'object' && now - last < 200 && (event.done !== event.total || event.listing)) return;
    last = now;
    const text =
      event.type === 'listed'
        ? `${event.keyDate}: ${event.objects} objects, ${mib(event.bytes)} to convert`
        : event.type === 'object'
          ? `${event.keyDate}: ${event.done}/${event.total}${event.listing ? '+' : ''} objects${event.listing ? ' (still listing)' : ''}, ${mib(event.bytes)}, ${event.rows.toLocaleString('en-US')} rows`
          : `${event.keyDate}: committed`;
    process.stderr.write(`\r\x1b[2K${text}`);
    if (event.type === 'committed') process.stderr.write('\n');
  };
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatSummary(summary: RunSummary, config: Pick<ConvertConfig, 'dest'>): string {
  const lines: string[] = [];
  for (const s of summary.keyDates) {
    if (s.status === 'empty') lines.push(`${s.keyDate}: no log objects found for this key date; nothing written`);
    else if (s.status === 'unchanged') lines.push(`${s.keyDate}: already converted with the same inputs and schema; skipped (--force to redo)`);
    else if (s.status === 'staged') lines.push(`${s.keyDate}: shard staged ${s.rows.toLocaleString('en-US')} rows; the last shard to finish (or s3logs commit) publishes the key date`);
    else if (s.status === 'failed') lines.push(`${s.keyDate}: FAILED at ${s.error?.stage}: ${s.error?.message} (nothing published for this key date)`);
    else {
      lines.push(
        `${s.keyDate}: ${s.objects} objects, ${s.lines.toLocaleString('en-US')} lines → ${s.rows.toLocaleString('en-US')} rows + ${s.rejects} rejects; ` +
          `${s.filesWritten} files in ${s.partitions} partitions, ${mib(s.bytesOut)} (${s.seconds.toFixed(1)} s)`,
      );
      if (s.rejects) lines.push(`  rejects: ${s.rejectFiles.join(', ')}`);
      if (s.repairedUtf8) lines.push(`  ${s.repairedUtf8} lines had invalid UTF-8, replaced by U+FFFD`);
    }
  }
  const mbps = summary.seconds > 0 ? summary.bytesIn / 1024 / 1024 / summary.seconds : 0;
  lines.push(
    `total: ${summary.objects} objects, ${mib(summary.bytesIn)} in, ${summary.rows.toLocaleString('en-US')} rows, ${summary.rejects} rejects, ` +
      `${summary.filesWritten} files, ${mib(summary.bytesOut)} out, ${summary.seconds.toFixed(1)} s (${mbps.toFixed(1)} MiB/s)` +
      (summary.retries ? `, ${summary.retries} retries` : ''),
  );
  if (!summary.ok) lines.push(`failed key dates: ${summary.failedKeyDates.join(', ')} — fix the cause above and re-run them`);
  else lines.push(`output: ${config.dest}`);
  return lines.join('\n') + '\n';
}
