/** Process entry for job scripts: argv in, exit code out, config errors as one line with exit 2. */
import { ConfigError, errorMessage } from '../errors.js';
import type { JobResult } from './run.js';

export function runEntryPoint(job: string, run: (argv: string[]) => Promise<JobResult>): void {
  run(process.argv.slice(2)).then(
    (result) => {
      process.exitCode = result.exitCode;
    },
    (error: unknown) => {
      process.stderr.write(`s3logs ${job}: ${errorMessage(error)}\n`);
      process.exitCode = error instanceof ConfigError ? 2 : 1;
    },
  );
}
