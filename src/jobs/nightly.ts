/**
 * Nightly: convert yesterday's key date (UTC, `--lag-days`), then re-check the key dates before it
 * (`--lookback-days`) and reprocess only those whose inputs changed since they were converted — S3
 * delivers logs best effort, hours (rarely days) late.
 */
import { parseDate } from '../config.js';
import { parseArgsOptions } from '../flags/read.js';
import { FLAGS } from '../flags/table.js';
import { formatDay, utcDay } from '../stages/time.js';
import { jobOptions, runJob, type JobResult } from './run.js';
import { loadJobSettings } from './settings.js';

/** The parseArgs options of `s3logs nightly` (derived from the flag table). */
export const NIGHTLY_FLAGS = parseArgsOptions('nightly');

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
  const settings = loadJobSettings('nightly', argv, env, (values) => {
    const asOf = values.text(FLAGS.asOf);
    return nightlyKeyDates(asOf === undefined ? now : new Date(parseDate(asOf, '--as-of') * 86_400_000), values.value(FLAGS.lagDays), values.value(FLAGS.lookbackDays));
  });
  return runJob(settings, jobOptions('nightly', settings, 1));
}
