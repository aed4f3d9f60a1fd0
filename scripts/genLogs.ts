/**
 * Command line of the seeded access log generator (src/demo/genLogs.ts, where the generator lives so
 * that `s3logs demo` does not depend on scripts/). Re-exports it for tests and benchmarks.
 *   node dist/scripts/genLogs.js --out <dir> --date YYYY-MM-DD [--mb 512] [--seed 1] [--layout simple|date-based]
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { writeKeyDateToDirectory, type GenerateOptions, type Layout } from '../src/demo/genLogs.js';

export * from '../src/demo/genLogs.js';

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      date: { type: 'string' },
      mb: { type: 'string', default: '512' },
      seed: { type: 'string', default: '1' },
      layout: { type: 'string', default: 'simple' },
      prefix: { type: 'string', default: '' },
      'reject-fraction': { type: 'string', default: '0' },
    },
    strict: true,
  });
  if (values.out === undefined || values.date === undefined) {
    throw new Error(
      'usage: genLogs --out <dir> --date YYYY-MM-DD [--mb 512] [--seed 1] [--layout simple|date-based] [--prefix logs/] [--reject-fraction 0]',
    );
  }
  const mb = Number(values.mb);
  const seed = Number(values.seed);
  if (!(mb > 0)) throw new Error(`--mb must be a positive number, got ${values.mb}`);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);
  const started = performance.now();
  const options: GenerateOptions = {
    seed,
    keyDate: values.date,
    layout: values.layout as Layout,
    prefix: values.prefix,
    targetBytes: Math.round(mb * 1024 * 1024),
    rejectFraction: Number(values['reject-fraction']),
  };
  const summary = await writeKeyDateToDirectory(values.out, options);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    JSON.stringify({
      out: values.out,
      date: values.date,
      layout: options.layout,
      seed,
      ...summary,
      seconds: Math.round(seconds * 100) / 100,
    }),
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 2;
  });
}
