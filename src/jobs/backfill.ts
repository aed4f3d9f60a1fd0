/**
 * Backfill: every key date from --from to --to, a few at a time (--parallel-dates), resumable — key
 * dates already converted with the same inputs and schema version are skipped unless --force. A failing
 * date is reported and the others go on; the exit code says whether all succeeded.
 */
import { dateRange } from '../config.js';
import { ConfigError } from '../errors.js';
import { logLevel, runJob, type JobResult } from './run.js';
import { loadJobSettings } from './settings.js';

export const BACKFILL_FLAGS = {
  from: { type: 'string' },
  to: { type: 'string' },
  'parallel-dates': { type: 'string' },
  force: { type: 'boolean' },
  'progress-seconds': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

function bounded(value: string | boolean | undefined, flag: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new ConfigError(`--${flag} must be a whole number from 1 to ${max}, got ${JSON.stringify(value)}`, `--${flag}`);
  }
  return Number(value);
}

export async function runBackfill(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<JobResult> {
  const settings = loadJobSettings('backfill', argv, env, BACKFILL_FLAGS, (job) => {
    if (typeof job.from !== 'string') throw new ConfigError('--from is required, e.g. --from 2024-01-01 --to 2024-03-31', '--from');
    if (typeof job.to !== 'string') throw new ConfigError('--to is required, e.g. --from 2024-01-01 --to 2024-03-31', '--to');
    return dateRange(job.from, job.to, '--from', '--to');
  });
  return runJob(settings, {
    job: 'backfill',
    parallelDates: bounded(settings.job['parallel-dates'], 'parallel-dates', 2, 32),
    force: settings.job.force === true,
    progressSeconds: bounded(settings.job['progress-seconds'], 'progress-seconds', 30, 3600),
    json: settings.convert.json,
    quiet: settings.convert.quiet,
    logLevel: logLevel(settings.job['log-level']),
  });
}
