/**
 * Nightly entry point for schedulers: converts yesterday's key date (UTC; `--lag-days` to change) with
 * the same flags as `s3logs convert`, e.g.
 *   node dist/jobs/nightly.js --source s3://logs/prefix/ --dest s3://lake/logs/ --catalog glue
 * Re-checking recent key dates for late objects is not done here yet.
 */
import { pathToFileURL } from 'node:url';
import { main } from '../src/cli.js';
import { formatDay, utcDay } from '../src/stages/time.js';

/** The key date `lagDays` before `now`'s UTC date. */
export function nightlyKeyDate(now: Date, lagDays = 1): string {
  return formatDay(utcDay(now.getTime()) - lagDays);
}

export async function runNightly(argv: string[], now = new Date()): Promise<number> {
  const lagAt = argv.indexOf('--lag-days');
  let lag = 1;
  const rest = [...argv];
  if (lagAt !== -1) {
    const value = rest[lagAt + 1];
    if (value === undefined || !/^\d{1,3}$/.test(value)) {
      process.stderr.write(`s3logs nightly: --lag-days must be a whole number of days, got ${JSON.stringify(value)}\n`);
      return 2;
    }
    lag = Number(value);
    rest.splice(lagAt, 2);
  }
  return main(['convert', '--date', nightlyKeyDate(now, lag), ...rest]);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runNightly(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
