/**
 * Backfill entry point: every key date of a range, resumable, a few at a time.
 *   node dist/jobs/backfill.js --source s3://logs/prefix/ --dest s3://lake/logs/ --from 2024-01-01 --to 2024-12-31
 * Exit codes: 0 all good, 1 some key dates failed, 2 bad usage/config, 130/143 interrupted.
 */
import { pathToFileURL } from 'node:url';
import { runBackfill } from '../src/jobs/backfill.js';
import { runEntryPoint } from '../src/jobs/entry.js';

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) runEntryPoint('backfill', (argv) => runBackfill(argv));
