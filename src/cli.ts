#!/usr/bin/env node
/**
 * s3logs command line. Exit codes: 0 all good, 1 some key dates failed, 2 bad usage or config.
 * Human output goes to stderr; --json puts one machine-readable summary on stdout.
 */
import { pathToFileURL } from 'node:url';
import { ConfigError, errorMessage } from './errors.js';
import { commandHelp, HELP, isCommand } from './help.js';
import { TOOL_VERSION } from './version.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

type Command = (argv: string[]) => Promise<number>;

/** Commands load on use, so `--help` or a local convert does not pay for AWS SDK clients it never uses. */
const COMMANDS: Record<string, () => Promise<{ run: Command }>> = {
  convert: async () => ({ run: (await import('./commands/convert.js')).runConvert }),
  commit: async () => ({ run: (await import('./commands/commit.js')).runCommit }),
  compact: async () => ({ run: (await import('./commands/compact.js')).runCompact }),
  demo: async () => ({ run: (await import('./commands/demo.js')).runDemo }),
  nightly: async () => ({ run: async (argv) => (await (await import('./jobs/nightly.js')).runNightly(argv)).exitCode }),
  backfill: async () => ({ run: async (argv) => (await (await import('./jobs/backfill.js')).runBackfill(argv)).exitCode }),
  ddl: async () => ({ run: (await import('./commands/ddl.js')).runDdl }),
  report: async () => ({ run: (await import('./commands/report.js')).runReport }),
  setup: async () => ({ run: (await import('./commands/setup.js')).runSetup }),
  doctor: async () => ({ run: (await import('./commands/doctor.js')).runDoctor }),
  query: async () => ({ run: (await import('./commands/query.js')).runQuery }),
};

function helpFor(command: string): string | undefined {
  return isCommand(command) ? commandHelp(command) : undefined;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write((rest[0] && helpFor(rest[0])) || HELP);
    return EXIT_OK;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`s3logs ${TOOL_VERSION}\n`);
    return EXIT_OK;
  }
  const load = COMMANDS[command];
  if (!load) {
    process.stderr.write(
      `s3logs: unknown command ${JSON.stringify(command)}; commands: ${Object.keys(COMMANDS).join(', ')} (see s3logs --help)\n`,
    );
    return EXIT_USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(helpFor(command) ?? HELP);
    return EXIT_OK;
  }
  try {
    return await (await load()).run(rest);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`s3logs ${command}: ${error.message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`s3logs ${command}: ${errorMessage(error)}\n`);
    return EXIT_FAILED;
  }
}

/** The AWS SDK warns about future Node versions on every run; users read it as an error. */
function quietNodeVersionWarning(): void {
  const emit = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...args: unknown[]) => {
    const name =
      typeof warning === 'string'
        ? typeof args[0] === 'string'
          ? args[0]
          : (args[0] as { type?: string } | undefined)?.type
        : warning.name;
    if (name === 'NodeVersionSupportWarning' || String(warning).includes('NodeVersionSupportWarning')) return;
    (emit as (...a: unknown[]) => void)(warning, ...args);
  }) as typeof process.emitWarning;
}

/** Entry point of the `s3logs` bin. */
export function run(): void {
  quietNodeVersionWarning();
  // `s3logs … --json | head`: a reader that went away is not an error worth a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`s3logs: ${errorMessage(error)}\n`);
      process.exitCode = EXIT_FAILED;
    },
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) run();
