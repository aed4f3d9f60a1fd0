/**
 * Nightly: convert yesterday's key date (UTC, `--lag-days`), then re-check the key dates before it
 * (`--lookback-days`) and reprocess only those whose inputs changed since they were converted — S3
 * delivers logs best effort, hours (rarely days) late.
 */
import { parseDate } from '../config.js';
import { ConfigError } from '../errors.js';
import { formatDay, utcDay } from '../stages/time.js';
import { logLevel, runJob, type JobResult } from './run.js';
import { loadJobSettings } from './settings.js';

export const NIGHTLY_FLAGS = {
  'lag-days': { type: 'string' },
  'lookback-days': { type: 'string' },
  /** Run the schedule as if today were this UTC date (replays, trying the nightly on sample data). */
  'as-of': { type: 'string' },
  force: { type: 'boolean' },
  'progress-seconds': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

/** The key date `lagDays` before `now`'s UTC date. */
export function nightlyKeyDate(now: Date, lagDays = 1): string {
  return formatDay(utcDay(now.getTime()) - lagDays);
}

function wholeNumber(value: string | boolean | undefined, flag: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^\d+$/.test(value) || Number(value) > max) throw new ConfigError(`--${flag} must be a whole number from 0 to ${max}, got ${JSON.stringify(value)}`, `--${flag}`);
  return Number(value);
}

/** Yesterday first, then the re-checked key dates, newest to oldest. */
export function nightlyKeyDates(now: Date, lagDays: number, lookbackDays: number): string[] {
  const newest = utcDay(now.getTime()) - lagDays;
  return Array.from({ length: lookbackDays + 1 }, (_, i) => formatDay(newest - i));
}

export async function runNightly(argv: string[], env: NodeJS.ProcessEnv = process.env, now = new Date()): Promise<JobResult> {
  const settings = loadJobSettings('nightly', argv, env, NIGHTLY_FLAGS, (job) =>
    nightlyKeyDates(
      job['as-of'] === undefined ? now : new Date(parseDate(String(job['as-of']), '--as-of') * 86_400_000),
      wholeNumber(job['lag-days'], 'lag-days', 1, 365),
      wholeNumber(job['lookback-days'], 'lookback-days', 3, 60),
    ),
  );
  return runJob(settings, {
    job: 'nightly',
    parallelDates: 1,
    force: settings.job.force === true,
    progressSeconds: Math.max(1, wholeNumber(settings.job['progress-seconds'], 'progress-seconds', 30, 3600)),
    json: settings.convert.json,
    quiet: settings.convert.quiet,
    logLevel: logLevel(settings.job['log-level']),
  });
}
