/**
 * Backfill: every key date from --from to --to, a few at a time (--parallel-dates), resumable — key
 * dates already converted with the same inputs and schema version are skipped unless --force. A failing
 * date is reported and the others go on; the exit code says whether all succeeded.
 */
import { dateRange } from '../config.js';
import { ConfigError } from '../errors.js';
import { parseArgsOptions } from '../flags/read.js';
import { FLAGS } from '../flags/table.js';
import { jobOptions, runJob, type JobResult } from './run.js';
import { loadJobSettings } from './settings.js';

/** The parseArgs options of `s3logs backfill` (derived from the flag table). */
export const BACKFILL_FLAGS = parseArgsOptions('backfill');

export async function runBackfill(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<JobResult> {
  const settings = loadJobSettings('backfill', argv, env, (values) => {
    const from = values.text(FLAGS.from);
    const to = values.text(FLAGS.backfillTo);
    if (from === undefined) throw new ConfigError('--from is required, e.g. --from 2024-01-01 --to 2024-03-31', '--from');
    if (to === undefined) throw new ConfigError('--to is required, e.g. --from 2024-01-01 --to 2024-03-31', '--to');
    return dateRange(from, to, '--from', '--to');
  });
  return runJob(settings, jobOptions('backfill', settings, settings.values.value(FLAGS.parallelDates)));
}
