/**
 * Job settings from flags, environment variables and a config file — the same names everywhere, so a
 * job runs the same from cron, a container or a function. `--source` is also `S3LOGS_SOURCE` and
 * `"source"` in the JSON file given by `--config` / `S3LOGS_CONFIG`. Precedence: flags, then
 * environment, then file. Everything is validated before any work starts; unknown keys (a typo in the
 * file, an unknown S3LOGS_* variable) are errors, not silently ignored.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CONVERT_FLAGS, parseConvertConfig, type ConvertConfig } from '../config.js';
import { ConfigError } from '../errors.js';

type FlagSpec = { type: 'string' | 'boolean' };

export interface JobSettings {
  readonly convert: ConvertConfig;
  /** Values of the job's own flags (strings, or true for booleans). */
  readonly job: Record<string, string | boolean>;
}

/** Environment variables s3logs reads that are not job settings (tuning, tests). */
const INTERNAL_ENV = new Set(['S3LOGS_CONFIG', 'S3LOGS_FAILPOINT', 'S3LOGS_TEST_VENDORED_CORPUS', 'S3LOGS_LOCK_LEASE_SECONDS', 'S3LOGS_PROGRESS_SECONDS', 'S3LOGS_CHROMIUM']);

/** Convert flags that make no sense in a scheduled job (dates come from the job). */
const NOT_FOR_JOBS = new Set(['date', 'to', 'help']);

function envName(flag: string): string {
  return `S3LOGS_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * @param jobFlags the job's own flags (e.g. lag-days), with defaults applied by the caller
 * @param command  for messages: `nightly` or `backfill`
 */
export function loadJobSettings(command: string, argv: string[], env: NodeJS.ProcessEnv, jobFlags: Record<string, FlagSpec>, convertDates: (job: Record<string, string | boolean>) => string[]): JobSettings {
  const convertFlags = Object.fromEntries(Object.entries(CONVERT_FLAGS).filter(([name]) => !NOT_FOR_JOBS.has(name))) as Record<string, FlagSpec>;
  const all: Record<string, FlagSpec> = { ...convertFlags, ...jobFlags, config: { type: 'string' } };
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({ args: argv, options: all, strict: true, allowPositionals: false }).values;
  } catch (error) {
    const unknown = /Unknown option '([^']+)'/.exec((error as Error).message);
    throw new ConfigError(unknown ? `unknown flag ${unknown[1]} for \`s3logs ${command}\`; see \`s3logs ${command} --help\`` : (error as Error).message, unknown?.[1]);
  }

  const fromFile = readConfigFile((flags.config as string | undefined) ?? env.S3LOGS_CONFIG, all);
  const fromEnv: Record<string, string | boolean> = {};
  const known = new Map(Object.keys(all).filter((k) => k !== 'config').map((k) => [envName(k), k]));
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('S3LOGS_') || value === undefined || INTERNAL_ENV.has(name)) continue;
    const flag = known.get(name);
    if (!flag) throw new ConfigError(`unknown environment variable ${name}; s3logs ${command} reads ${[...known.keys()].slice(0, 6).join(', ')}, …`, name);
    fromEnv[flag] = all[flag]!.type === 'boolean' ? parseBoolean(value, name) : value;
  }

  const merged: Record<string, string | boolean> = { ...fromFile, ...fromEnv };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) merged[k] = v;

  const job: Record<string, string | boolean> = {};
  const convertArgv: string[] = [];
  for (const [k, v] of Object.entries(merged)) {
    if (k === 'config') continue;
    if (k in jobFlags) job[k] = v;
    else if (v === true) convertArgv.push(`--${k}`);
    else if (v !== false) convertArgv.push(`--${k}`, String(v));
  }
  const dates = convertDates(job);
  const sorted = [...dates].sort();
  // The convert parser validates every other setting; the job's own date list replaces its range.
  const convert = parseConvertConfig([...convertArgv, '--date', sorted[0]!, '--to', sorted[sorted.length - 1]!], env, command);
  return { convert: { ...convert, keyDates: dates }, job };
}

function parseBoolean(value: string, name: string): boolean {
  if (/^(1|true|yes)$/i.test(value)) return true;
  if (/^(0|false|no|)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(value)}`, name);
}

function readConfigFile(path: string | undefined, allowed: Record<string, FlagSpec>): Record<string, string | boolean> {
  if (!path) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`--config ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid JSON (${(error as Error).message})`}`, '--config');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`--config ${path} must hold a JSON object of settings`, '--config');
  const out: Record<string, string | boolean> = {};
  for (const [key, value] of Object.entries(parsed)) {
    const spec = allowed[key];
    if (!spec || key === 'config') {
      throw new ConfigError(`--config ${path}: unknown setting ${JSON.stringify(key)}; settings are the flag names, e.g. "source", "dest", "catalog"`, '--config');
    }
    if (spec.type === 'boolean' ? typeof value !== 'boolean' : typeof value !== 'string' && typeof value !== 'number') {
      throw new ConfigError(`--config ${path}: ${JSON.stringify(key)} must be a ${spec.type === 'boolean' ? 'boolean' : 'string or number'}`, '--config');
    }
    out[key] = typeof value === 'number' ? String(value) : value;
  }
  return out;
}
