/**
 * Runs a scheduled job's key dates: skipping those already converted with the same inputs (unless
 * --force), with bounded parallelism, reporting progress across the whole range — a live line on a
 * terminal, structured JSON log lines (pino) otherwise — and a final summary.
 */
import { pino, type Logger } from 'pino';
import { convert, exitCode as runExitCode, formatSummary, type RunSummary } from '../commands/convert.js';
import type { KeyDateSummary, ProgressEvent } from '../summary.js';
import { FLAGS } from '../flags/table.js';
import { newRunId } from '../runId.js';
import { withShutdownSignals } from '../signals.js';
import type { JobSettings } from './settings.js';
import { grouped } from '../numberText.js';

export interface JobOptions {
  readonly job: 'nightly' | 'backfill';
  readonly parallelDates: number;
  readonly force: boolean;
  /** Seconds between progress log lines when stderr is not a terminal. */
  readonly progressSeconds: number;
  readonly json: boolean;
  readonly quiet: boolean;
  /** pino level: debug adds one line per raw object. */
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** A step after the key dates (nightly: compaction); its result goes into the summary as `compact`. */
  readonly after?: (signal: AbortSignal, log: Logger) => Promise<{ exitCode: number; summary: unknown }>;
}

export interface Progress {
  datesDone: number;
  datesLeft: number;
  rows: number;
  bytesIn: number;
  mibPerSecond: number;
  etaSeconds: number | null;
}

export interface JobResult {
  readonly exitCode: number;
  readonly summary?: RunSummary;
}

/** The options every job reads from its settings. */
export function jobOptions(job: JobOptions['job'], settings: JobSettings, parallelDates: number): JobOptions {
  const values = settings.values;
  return {
    job,
    parallelDates,
    force: values.flag(FLAGS.force),
    // 0 reads as 1: a progress line every second at most.
    progressSeconds: Math.max(1, values.value(FLAGS.progressSeconds)),
    json: settings.convert.json,
    quiet: settings.convert.quiet,
    logLevel: values.value(FLAGS.logLevel),
  };
}

export function jobLogger(job: string, runId: string, level: JobOptions['logLevel'] | 'silent'): Logger {
  return pino({ base: { job, runId }, level, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }));
}

export async function runJob(settings: JobSettings, options: JobOptions): Promise<JobResult> {
  const runId = newRunId();
  const config = settings.convert;
  const terminal = Boolean(process.stderr.isTTY) && !options.quiet;
  // --quiet keeps error lines: a failed job never ends silent.
  const log = jobLogger(options.job, runId, options.quiet ? 'error' : terminal ? 'silent' : options.logLevel);
  const total = config.keyDates.length;
  const started = performance.now();
  let done = 0;
  let rows = 0;
  let bytes = 0;
  const bytesByDate = new Map<string, number>();
  const rowsByDate = new Map<string, number>();

  const progress = (): Progress => {
    const seconds = (performance.now() - started) / 1000;
    const live = [...bytesByDate.values()].reduce((a, b) => a + b, 0);
    const liveRows = [...rowsByDate.values()].reduce((a, b) => a + b, 0);
    const eta = done > 0 ? (seconds / done) * (total - done) : undefined;
    return {
      datesDone: done,
      datesLeft: total - done,
      rows: rows + liveRows,
      bytesIn: bytes + live,
      mibPerSecond: +((bytes + live) / 1048576 / Math.max(seconds, 0.001)).toFixed(1),
      etaSeconds: eta === undefined ? null : Math.round(eta),
    };
  };
  const onProgress = (event: ProgressEvent) => {
    if (event.type === 'object') {
      bytesByDate.set(event.keyDate, event.bytes);
      rowsByDate.set(event.keyDate, event.rows);
      log.debug({ keyDate: event.keyDate, stage: 'parse', objectKey: event.objectKey, ...event.object }, 'object parsed');
    }
    if (terminal) drawLine(progress());
  };
  const onKeyDate = (s: KeyDateSummary) => {
    done++;
    bytesByDate.delete(s.keyDate);
    rowsByDate.delete(s.keyDate);
    rows += s.rows;
    bytes += s.bytesIn;
    const fields = {
      keyDate: s.keyDate,
      status: s.status,
      listedObjects: s.listed.objects,
      listedBytes: s.listed.bytes,
      objects: s.objects,
      lines: s.lines,
      rows: s.rows,
      rejects: s.rejects,
      filesWritten: s.filesWritten,
      published: s.published,
      ...(s.gone.objects ? { goneObjects: s.gone.objects, goneRows: s.gone.rows, goneRowsRemoved: s.gone.removed } : {}),
      seconds: +s.seconds.toFixed(2),
      stageSeconds: s.stageSeconds,
    };
    if (s.status === 'failed')
      log.error(
        { ...fields, stage: s.error?.stage, error_code: s.error?.code, catalogBehind: s.catalogBehind, err: s.error?.message },
        'key date failed',
      );
    else log.info(fields, 'key date done');
    if (terminal) drawLine(progress());
  };

  log.info(
    {
      keyDates: total,
      from: config.keyDates[0],
      to: config.keyDates[total - 1],
      source: config.source,
      dest: config.dest,
      catalog: config.catalog,
      force: options.force,
      parallelDates: options.parallelDates,
      shard: config.shard ?? null,
    },
    'job started',
  );
  const ticker = terminal
    ? undefined
    : setInterval(() => log.info({ type: 'progress', ...progress() }, 'progress'), options.progressSeconds * 1000);
  ticker?.unref();
  let summary: RunSummary | undefined;
  let after: unknown;
  const exitCode = await withShutdownSignals(async (signal) => {
    try {
      summary = await convert(config, onProgress, {
        skipUnchanged: !options.force,
        signal,
        parallelDates: options.parallelDates,
        onKeyDate,
      });
    } finally {
      if (ticker) {
        clearInterval(ticker);
        // A last progress line, so even a run shorter than the interval reports one.
        log.info({ type: 'progress', ...progress() }, 'progress');
      }
      if (terminal) process.stderr.write('\n');
    }
    const code = runExitCode(summary);
    if (!options.after || signal.aborted) return code;
    const step = await options.after(signal, log);
    after = step.summary;
    // A failure anywhere is a failure; locks alone (75) only when nothing else failed.
    return code === 1 || step.exitCode === 1 ? 1 : Math.max(code, step.exitCode);
  });
  if (summary) {
    const statuses: Record<string, number> = {};
    for (const s of summary.keyDates) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
    log.info({ ...withoutKeyDates(summary), statuses, exitCode }, 'job finished');
    if (options.json) process.stdout.write(JSON.stringify(after === undefined ? summary : { ...summary, compact: after }) + '\n');
    if (terminal) process.stderr.write(formatSummary(summary, config));
  }
  return { exitCode, ...(summary ? { summary } : {}) };
}

function withoutKeyDates(summary: RunSummary): Omit<RunSummary, 'keyDates'> {
  const { keyDates: _omit, ...rest } = summary;
  return rest;
}

function drawLine(p: Progress): void {
  const eta =
    p.etaSeconds === null ? '?' : p.etaSeconds >= 3600 ? `${(p.etaSeconds / 3600).toFixed(1)} h` : `${Math.ceil(p.etaSeconds / 60)} min`;
  process.stderr.write(
    `\r\x1b[2K${p.datesDone}/${p.datesDone + p.datesLeft} key dates, ${grouped(p.rows)} rows, ${(p.bytesIn / 1048576).toFixed(1)} MiB, ${p.mibPerSecond} MiB/s, ETA ${eta}`,
  );
}
