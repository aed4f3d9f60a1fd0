/** `s3logs convert`: one key date or a range, with a human summary on stderr and --json on stdout. */
import pLimit from 'p-limit';
import type { Catalog } from '../catalog/Catalog.js';
import { parseConvertConfig, type ConvertConfig } from '../config.js';
import { CatalogError, ConfigError } from '../errors.js';
import { checkOverlap, openDest, openSource, type StoreOptions } from '../locations.js';
import { convertKeyDate, planKeyDate, type ConvertSettings } from '../pipeline.js';
import { checkDest, checkSource } from '../preflight.js';
import type { KeyDateCounts } from '../records.js';
import { withShutdownSignals } from '../signals.js';
import { newSummary, type KeyDateSummary, type ProgressEvent } from '../summary.js';
import { openCatalog } from './stores.js';
import { grouped } from '../numberText.js';

/** Exit code of a run whose only failures were locks other live runs hold: try again later (EX_TEMPFAIL). */
export const EXIT_LOCKED = 75;

export interface RunSummary extends KeyDateCounts {
  /** bytesIn after gzip and zstd objects were decompressed. */
  bytesParsed: number;
  ok: boolean;
  keyDates: KeyDateSummary[];
  failedKeyDates: string[];
  filesWritten: number;
  bytesOut: number;
  partitions: number;
  retries: number;
  seconds: number;
}

export async function runConvert(argv: string[]): Promise<number> {
  const config = parseConvertConfig(argv);
  if (!config.allowOverlap) checkOverlap(config.sourceLocation, config.destLocation);
  return withShutdownSignals(async (signal) => {
    const summary = await convert(config, config.quiet || config.json ? undefined : progressPrinter(), { signal });
    if (config.json) process.stdout.write(JSON.stringify(summary) + '\n');
    // --quiet keeps the errors (as the AWS CLI's --only-show-errors): a failed run never ends silent.
    process.stderr.write(formatSummary(summary, config, config.quiet));
    return exitCode(summary);
  });
}

/** 0 all good; 75 only lock conflicts (retry later); 2 only settings a key date refused (--redact); 1 anything else failed. */
export function exitCode(summary: RunSummary): number {
  if (summary.ok) return 0;
  const failed = summary.keyDates.filter((s) => s.status === 'failed');
  if (failed.every((s) => s.error?.code === 'locked')) return EXIT_LOCKED;
  return failed.every((s) => s.error?.code === 'config') ? 2 : 1;
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
  const source = await openSource(config.sourceLocation, stores);
  const dest = await openDest(config.destLocation, stores);
  const close = async () => {
    await source.storage.close?.();
    await dest.close?.();
  };
  try {
    // Before any key date, and before the catalog: a source with no log objects at all, or a setup no
    // key date can get past (region, credentials, a destination that cannot be written), is a usage error.
    await checkSource(source, config.layout, config.source);
    await checkDest(dest, config.dest);
    const catalog = await openCatalog(config.catalog, dest, {
      ...(config.database ? { database: config.database } : {}),
      ...(config.table ? { table: config.table } : {}),
      projection: config.projection,
      aws: config.aws,
    });
    await probeCatalog(catalog, config.catalog);
    const settings: ConvertSettings = {
      source,
      dest,
      catalog,
      ...(config.database ? { database: config.database } : {}),
      ...(config.table ? { table: config.table } : {}),
      layout: config.layout,
      concurrency: config.concurrency,
      workers: config.workers,
      ...(config.inThreadBelowBytes !== undefined ? { inThreadBelowBytes: config.inThreadBelowBytes } : {}),
      compression: config.compression,
      memoryBudget: config.memoryBudget,
      maxFileRows: config.maxFileRows,
      maxFileBytes: config.maxFileBytes,
      rowGroupRows: config.rowGroupRows,
      ...(config.shard ? { shard: config.shard } : {}),
      ...(options.skipUnchanged ? { skipUnchanged: true } : {}),
      ...(config.deleteVanished ? { deleteVanished: true } : {}),
      maxRejectRatio: config.maxRejectRatio,
      ...(config.redact.length ? { redact: config.redact } : {}),
      ...(config.lockWaitSeconds !== undefined ? { lockWaitMs: config.lockWaitSeconds * 1000 } : {}),
      ...(config.tagConverted ? { tagObjects: tagger(config) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(onProgress ? { onProgress } : {}),
    };
    return { settings, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export async function convert(
  config: ConvertConfig,
  onProgress?: (event: ProgressEvent) => void,
  options: ConvertRunOptions = {},
): Promise<RunSummary> {
  const started = performance.now();
  const { settings, close } = await openRun(config, options, onProgress);
  try {
    const results = new Map<string, KeyDateSummary>();
    const limit = pLimit(options.parallelDates ?? 1);
    await Promise.all(
      config.keyDates.map((keyDate) =>
        limit(async () => {
          // Stop taking new key dates once interrupted; the ones not started are reported as failed.
          const summary = options.signal?.aborted
            ? interruptedSummary(keyDate)
            : config.dryRun
              ? await planKeyDate(settings, keyDate)
              : await convertKeyDate(settings, keyDate);
          results.set(keyDate, summary);
          options.onKeyDate?.(summary);
        }),
      ),
    );
    return summarize(
      config.keyDates.map((d) => results.get(d)!),
      settings,
      started,
    );
  } finally {
    await close();
  }
}

/** A catalog no key date could register in (credentials, region, permissions) is a setup error, found once. */
async function probeCatalog(catalog: Catalog, kind: string): Promise<void> {
  try {
    await catalog.probe?.();
  } catch (error) {
    if (error instanceof CatalogError) throw new ConfigError(`--catalog ${kind}: ${error.message.replace(/\s+/g, ' ')}`, '--catalog');
    throw error;
  }
}

/** Marks raw objects as converted once their rows are published (the safe-expiry lifecycle rule keys on it). */
function tagger(config: ConvertConfig): (keys: string[]) => Promise<void> {
  return async (keys) => {
    const location = config.sourceLocation;
    if (location.kind !== 's3') return;
    // Loaded here: the S3 SDK costs every run ~0.2 s of start-up, and a local run never tags.
    const [{ createControlS3Client }, { tagConverted }] = await Promise.all([import('../setup/clients.js'), import('../setup/tagging.js')]);
    const client = createControlS3Client(config.aws);
    try {
      await tagConverted(client, location.bucket, keys, {
        concurrency: config.concurrency,
        ...(config.aws.expectedBucketOwner ? { expectedBucketOwner: config.aws.expectedBucketOwner } : {}),
      });
    } finally {
      client.destroy();
    }
  };
}

function interruptedSummary(keyDate: string): KeyDateSummary {
  return {
    ...newSummary(keyDate),
    status: 'failed',
    error: { stage: 'list', code: 'interrupted', message: 'not started: the run was interrupted' },
  };
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
    bytesParsed: sum((s) => s.bytesParsed),
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

/** How often progress is logged when stderr is not a terminal (a scheduler's or CI's log). */
const PROGRESS_SECONDS = 30;

/**
 * On a terminal, one live line. Otherwise plain lines a log keeps: what each key date listed, where it
 * is every PROGRESS_SECONDS (S3LOGS_PROGRESS_SECONDS), and when it published.
 */
function progressPrinter(): (event: ProgressEvent) => void {
  const text = (event: ProgressEvent) =>
    event.type === 'listed'
      ? `${event.keyDate}: ${event.objects} objects, ${mib(event.bytes)} listed`
      : event.type === 'object'
        ? `${event.keyDate}: ${event.done}/${event.total}${event.listing ? '+' : ''} objects${event.listing ? ' (still listing)' : ''}, ${mib(event.bytes)}, ${grouped(event.rows)} rows`
        : `${event.keyDate}: published`;
  let last = 0;
  if (!process.stderr.isTTY) {
    const every = (Number(process.env.S3LOGS_PROGRESS_SECONDS) || PROGRESS_SECONDS) * 1000;
    return (event) => {
      const now = performance.now();
      if (event.type === 'object' && now - last < every) return;
      if (event.type === 'object') last = now;
      process.stderr.write(`progress: ${text(event)}\n`);
    };
  }
  return (event) => {
    const now = performance.now();
    if (event.type === 'object' && now - last < 200 && (event.done !== event.total || event.listing)) return;
    last = now;
    process.stderr.write(`\r\x1b[2K${text(event)}`);
    if (event.type === 'committed') process.stderr.write('\n');
  };
}

/** What a failed key date left behind, and the one thing to do about it. */
function afterFailure(s: KeyDateSummary): string {
  if (s.error?.code === 'locked')
    return `(${s.note ?? 'nothing changed by this run; try again once the holder is done'} — exit code 75 lets a scheduler retry)`;
  if (!s.published) return '(nothing published for this key date)';
  if (s.error?.stage === 'tag') return '(published and registered; re-run the key date to tag its raw objects)';
  if (s.catalogBehind) {
    return `(published: the files are in place, but the catalog is behind; re-run the key date with \`s3logs backfill --from ${s.keyDate} --to ${s.keyDate}\` and the same flags, which registers it without converting again)`;
  }
  return '(the publish began and was interrupted: queries may see rows of re-read objects twice until the next run of this key date — any convert, backfill, nightly, shard or commit — finishes it)';
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatSummary(summary: RunSummary, config: Pick<ConvertConfig, 'dest'>, onlyErrors = false): string {
  const lines: string[] = [];
  const n = grouped;
  for (const s of summary.keyDates) {
    if (onlyErrors && s.status !== 'failed') continue;
    const d = s.keyDate;
    if (s.status === 'empty') lines.push(`${d}: no log objects found for this key date; nothing written`);
    else if (s.status === 'planned') {
      const p = s.plan!;
      lines.push(
        `${d}: ${s.listed.objects} objects (${mib(s.listed.bytes)}) listed${p.layouts.length ? ` in the ${p.layouts.join(' and ')} layout` : ''}; ` +
          `${p.newOrChanged} new or changed, ${p.held} already in the lake as they are — a run would ${p.newOrChanged > 0 || (s.gone.objects > 0 && s.gone.removed) ? 'convert' : 'skip (backfill/nightly) or re-read (convert)'} it`,
      );
    } else if (s.status === 'unchanged') {
      const checked = `${s.listed.objects} objects (${mib(s.listed.bytes)}) listed, all in the lake as they are now; skipped (--force converts again)`;
      lines.push(`${d}: ${s.note ?? (s.listed.objects > 0 ? checked : 'no log objects listed; the lake keeps the rows it holds')}`);
    } else if (s.status === 'staged') {
      lines.push(
        `${d}: shard staged ${n(s.rows)} rows; waiting for shard${s.waitingFor && s.waitingFor.length > 1 ? 's' : ''} ${(s.waitingFor ?? []).join(', ')} (the last shard to finish, or s3logs commit, publishes the key date)`,
      );
    } else if (s.status === 'failed') lines.push(`${d}: FAILED at ${s.error?.stage}: ${s.error?.message} ${afterFailure(s)}`);
    else {
      lines.push(
        `${d}: ${s.objects} objects, ${n(s.lines)} lines → ${n(s.rows)} rows + ${n(s.rejects)} rejects; ` +
          `${s.filesWritten} files in ${s.partitions} partitions, ${mib(s.bytesOut)} (${s.seconds.toFixed(1)} s)`,
      );
      if (s.note) lines.push(`  ${s.note}`);
      const compressed = s.compressedObjects.gzip + s.compressedObjects.zstd;
      if (compressed) {
        const kinds = (['gzip', 'zstd'] as const)
          .filter((k) => s.compressedObjects[k])
          .map((k) => `${s.compressedObjects[k]} ${k}`)
          .join(', ');
        lines.push(`  ${compressed} compressed objects (${kinds}): ${mib(s.bytesIn)} stored, ${mib(s.bytesParsed)} of logs`);
      }
      if (s.rejects) lines.push(`  rejects: ${s.rejectFiles.join(', ')}`);
      if (s.repairedUtf8) lines.push(`  ${s.repairedUtf8} lines had invalid UTF-8, replaced by U+FFFD`);
      if (s.carriedFiles) lines.push(`  ${s.carriedFiles} files rewritten to keep the rows of objects this run did not read`);
    }
    if (s.gone.objects > 0) {
      lines.push(
        `  ${s.gone.objects} object${s.gone.objects === 1 ? '' : 's'} of this key date ${s.gone.objects === 1 ? 'is' : 'are'} gone from the source; ` +
          `${s.gone.objects === 1 ? 'its' : 'their'} ${n(s.gone.rows)} rows were ${s.gone.removed ? 'removed (--delete-vanished)' : 'kept (--delete-vanished removes them)'}`,
      );
    }
  }
  if (onlyErrors) {
    if (!summary.ok) lines.push(`failed key dates: ${summary.failedKeyDates.join(', ')} — fix the cause above and re-run them`);
    return lines.length ? lines.join('\n') + '\n' : '';
  }
  const mbps = summary.seconds > 0 ? summary.bytesIn / 1024 / 1024 / summary.seconds : 0;
  lines.push(
    `total: ${summary.objects} objects, ${mib(summary.bytesIn)} in, ${grouped(summary.rows)} rows, ${summary.rejects} rejects, ` +
      `${summary.filesWritten} files, ${mib(summary.bytesOut)} out, ${summary.seconds.toFixed(1)} s (${mbps.toFixed(1)} MiB/s)` +
      (summary.retries ? `, ${summary.retries} retries` : ''),
  );
  if (!summary.ok) lines.push(`failed key dates: ${summary.failedKeyDates.join(', ')} — fix the cause above and re-run them`);
  else if (summary.keyDates.every((s) => s.status === 'planned'))
    lines.push(`dry run: the source and ${config.dest} passed the setup checks; nothing was converted or written`);
  else lines.push(`output: ${config.dest}`);
  return lines.join('\n') + '\n';
}
