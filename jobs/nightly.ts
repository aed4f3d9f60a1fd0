/**
 * Nightly entry point for schedulers (cron, a container, a function): yesterday's key date plus a
 * re-check of recent ones, configured by flags, S3LOGS_* environment variables or --config file.
 *   node dist/jobs/nightly.js --source s3://logs/prefix/ --dest s3://lake/logs/ --catalog glue
 * Exit codes: 0 all good, 1 some key dates failed, 2 bad usage/config, 130/143 interrupted.
 */
import { pathToFileURL } from 'node:url';
import { runEntryPoint } from '../src/jobs/entry.js';
import { runNightly } from '../src/jobs/nightly.js';

export { nightlyKeyDate } from '../src/jobs/nightly.js';

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) runEntryPoint('nightly', (argv) => runNightly(argv));
