/**
 * Nightly: convert yesterday's key date (UTC, `--lag-days`), then re-check the key dates before it
 * (`--lookback-days`) and reprocess only those whose inputs changed since they were converted — S3
 * delivers logs best effort, hours (rarely days) late.
 */
import type { Logger } from 'pino';
import { compact, compactExitCode, targetFileBytes } from '../commands/compact.js';
import { parseDate } from '../config.js';
import { parseArgsOptions } from '../flags/read.js';
import { FLAGS } from '../flags/table.js';
import { openDest } from '../locations.js';
import { formatDay, utcDay } from '../stages/time.js';
import { jobOptions, runJob, type JobResult } from './run.js';
import { loadJobSettings } from './settings.js';

/** The parseArgs options of `s3logs nightly` (derived from the flag table). */
export const NIGHTLY_FLAGS = parseArgsOptions('nightly');

/**
 * Partitions are settled once no key date the nightly still converts or re-checks is likely to add rows
 * to them: S3 delivers a record in an object of its own day or, late, of the next (SETTLE_DAYS), and the
 * nightly re-checks --lookback-days key dates before yesterday. A week of settled dt is looked at each
 * night, so a partition that got a late file after it was compacted is compacted again (partitions
 * already at one file per target size are skipped after a listing).
 */
const SETTLE_DAYS = 1;
const COMPACT_WINDOW_DAYS = 7;

/** The dt range the nightly compacts: the newest settled dt and the days before it. */
export function settledRange(now: Date, lagDays: number, lookbackDays: number): { from: string; to: string } {
  // The oldest key date the nightly re-checks, and the dt its late records may still land in.
  const oldest = utcDay(now.getTime()) - lagDays - lookbackDays;
  const to = oldest - SETTLE_DAYS - 1;
  return { from: formatDay(to - COMPACT_WINDOW_DAYS + 1), to: formatDay(to) };
}

/** The key date `lagDays` before `now`'s UTC date. */
export function nightlyKeyDate(now: Date, lagDays = 1): string {
  return formatDay(utcDay(now.getTime()) - lagDays);
}

/** Yesterday first, then the re-checked key dates, newest to oldest. */
export function nightlyKeyDates(now: Date, lagDays: number, lookbackDays: number): string[] {
  const newest = utcDay(now.getTime()) - lagDays;
  return Array.from({ length: lookbackDays + 1 }, (_, i) => formatDay(newest - i));
}

export async function runNightly(argv: string[], env: NodeJS.ProcessEnv = process.env, now = new Date()): Promise<JobResult> {
  let schedule: { today: Date; lag: number; lookback: number } | undefined;
  const settings = loadJobSettings('nightly', argv, env, (values) => {
    const asOf = values.text(FLAGS.asOf);
    schedule = {
      today: asOf === undefined ? now : new Date(parseDate(asOf, '--as-of') * 86_400_000),
      lag: values.value(FLAGS.lagDays),
      lookback: values.value(FLAGS.lookbackDays),
    };
    return nightlyKeyDates(schedule.today, schedule.lag, schedule.lookback);
  });
  const targetBytes = targetFileBytes(settings.values.value(FLAGS.targetFileMb));
  const compactStep = settings.values.flag(FLAGS.noCompact)
    ? undefined
    : async (signal: AbortSignal, log: Logger) => {
        const range = settledRange(schedule!.today, schedule!.lag, schedule!.lookback);
        const config = settings.convert;
        const dest = await openDest(config.dest, {
          aws: config.aws,
          ...(config.sse ? { sse: config.sse } : {}),
          ...(config.sseKmsKeyId ? { sseKmsKeyId: config.sseKmsKeyId } : {}),
          ...(config.multipartThreshold ? { multipartThreshold: config.multipartThreshold } : {}),
          ...(config.partSize ? { partSize: config.partSize } : {}),
        });
        try {
          const summary = await compact(
            dest,
            {
              dest: config.dest,
              ...range,
              targetBytes,
              // Convert's --row-group-rows when given, else compact's own default (smaller row groups).
              rowGroupRows: settings.values.given(FLAGS.rowGroupRows) ? config.rowGroupRows : FLAGS.compactRowGroupRows.default,
              lockWaitMs: (config.lockWaitSeconds ?? 30) * 1000,
            },
            signal,
            // One log line per partition compacted: a long compaction shows progress like the converts do.
            (r) => {
              if (r.status === 'compacted')
                log.info(
                  {
                    stage: 'compact',
                    bucket: r.bucket,
                    dt: r.dt,
                    files_before: r.filesBefore,
                    files_after: r.filesAfter,
                    rows: r.rowsAfter,
                  },
                  'partition compacted',
                );
            },
          );
          const { results, ...totals } = summary;
          for (const r of results.filter((x) => x.status === 'failed'))
            log.error(
              { stage: 'compact', bucket: r.bucket, dt: r.dt, error_code: r.errorCode, err: r.reason },
              'partition compaction failed',
            );
          log.info({ stage: 'compact', from: range.from, to: range.to, ...totals }, 'compaction done');
          return { exitCode: compactExitCode(summary), summary: { from: range.from, to: range.to, ...summary } };
        } finally {
          await dest.close?.();
        }
      };
  return runJob(settings, { ...jobOptions('nightly', settings, 1), ...(compactStep ? { after: compactStep } : {}) });
}
