/**
 * Job settings from flags, environment variables and a config file — the same names everywhere, so a
 * job runs the same from cron, a container or a function. `--source` is also `S3LOGS_SOURCE` and
 * `"source"` in the JSON file given by `--config` / `S3LOGS_CONFIG` (names from src/flags/table.ts).
 * Precedence: flags, then environment, then file. Everything is validated before any work starts, by the
 * same checks as flags; unknown keys (a typo in the file, an unknown S3LOGS_* variable) are errors.
 */
import { readFileSync } from 'node:fs';
import { convertConfig, type ConvertConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { FlagValues, readArgv, type RawValues } from '../flags/read.js';
import { configKeyOf, envOf, flagsOf, type Command, type FlagSpec } from '../flags/table.js';

export interface JobSettings {
  readonly convert: ConvertConfig;
  /** Every setting, merged, for the job's own flags (read them through the table: `values.value(FLAGS.x)`). */
  readonly values: FlagValues;
}

/** Environment variables s3logs reads that are not job settings (tuning, tests). */
const INTERNAL_ENV = new Set([
  'S3LOGS_CONFIG',
  'S3LOGS_FAILPOINT',
  'S3LOGS_TEST_VENDORED_CORPUS',
  'S3LOGS_LOCK_LEASE_SECONDS',
  'S3LOGS_PROGRESS_SECONDS',
  'S3LOGS_CHROMIUM',
]);

/**
 * @param command       `nightly` or `backfill`
 * @param convertDates  the job's key dates, from its own settings (checked before the convert settings)
 */
export function loadJobSettings(
  command: Command,
  argv: string[],
  env: NodeJS.ProcessEnv,
  convertDates: (values: FlagValues) => string[],
): JobSettings {
  const flags = readArgv(command, argv);
  const specs = flagsOf(command);
  const fromFile = readConfigFile(typeof flags.config === 'string' ? flags.config : env.S3LOGS_CONFIG, specs, command);
  const fromEnv: RawValues = {};
  const known = new Map(specs.flatMap((f) => (envOf(f, command) ? [[envOf(f, command)!, f] as const] : [])));
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('S3LOGS_') || value === undefined || INTERNAL_ENV.has(name)) continue;
    const flag = known.get(name);
    if (!flag)
      throw new ConfigError(
        `unknown environment variable ${name}; s3logs ${command} reads ${[...known.keys()].slice(0, 6).join(', ')}, …`,
        name,
      );
    fromEnv[flag.name] = flag.type === 'boolean' ? parseBoolean(value, name) : value;
  }
  const merged: RawValues = { ...fromFile, ...fromEnv };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) merged[k] = v;
  const values = new FlagValues(command, merged);
  const keyDates = convertDates(values);
  return { convert: convertConfig(values, keyDates, env), values };
}

function parseBoolean(value: string, name: string): boolean {
  if (/^(1|true|yes)$/i.test(value)) return true;
  if (/^(0|false|no|)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(value)}`, name);
}

function readConfigFile(path: string | undefined, specs: FlagSpec[], command: Command): RawValues {
  if (!path) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(
      `--config ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid JSON (${(error as Error).message})`}`,
      '--config',
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ConfigError(`--config ${path} must hold a JSON object of settings`, '--config');
  const out: RawValues = {};
  for (const [key, value] of Object.entries(parsed)) {
    const spec = specs.find((f) => configKeyOf(f, command) === key);
    if (!spec) {
      throw new ConfigError(
        `--config ${path}: unknown setting ${JSON.stringify(key)}; settings are the flag names, e.g. "source", "dest", "catalog"`,
        '--config',
      );
    }
    if (spec.type === 'boolean' ? typeof value !== 'boolean' : typeof value !== 'string' && typeof value !== 'number') {
      throw new ConfigError(
        `--config ${path}: ${JSON.stringify(key)} must be a ${spec.type === 'boolean' ? 'boolean' : 'string or number'}`,
        '--config',
      );
    }
    out[key] = typeof value === 'number' ? String(value) : value;
  }
  return out;
}
